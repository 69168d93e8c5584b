package api

import (
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"
)

// MaxKeyLen bounds an object key (S3 allows 1024 bytes).
const MaxKeyLen = 1024

// ValidHostID reports whether id can name a host in the bucket: a DMI UUID, a
// serial or a MAC address (1-128 of A-Z a-z 0-9 . _ : -, starting with a
// letter or digit, no "..").
func ValidHostID(id string) bool {
	if id == "" || len(id) > 128 || strings.Contains(id, "..") {
		return false
	}
	for i, c := range id {
		alnum := (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
		if !alnum && (i == 0 || !strings.ContainsRune("._:-", c)) {
			return false
		}
	}
	return true
}

// CheckKey decides whether an agent of host may use key with method. Keys must
// be under runs/<host>/ or hosts/<host>/, be clean relative paths (no "..",
// ".", empty segments, backslashes, control characters or leading "/"), and
// hosts/<host>/spec.yaml is the operator's: agents may read it, not write it.
func CheckKey(host, key, method string) error {
	if !ValidHostID(host) {
		return fmt.Errorf("invalid host id %q", host)
	}
	if key == "" || len(key) > MaxKeyLen || !utf8.ValidString(key) {
		return fmt.Errorf("key must be 1-%d bytes of UTF-8", MaxKeyLen)
	}
	if strings.HasPrefix(key, "/") {
		return fmt.Errorf("key %q: absolute keys are not allowed", key)
	}
	for _, c := range key {
		if c < 0x20 || c == 0x7f || c == '\\' {
			return fmt.Errorf("key %q: control characters and backslashes are not allowed", key)
		}
	}
	segs := strings.Split(key, "/")
	for _, s := range segs {
		if s == "" || s == "." || s == ".." {
			return fmt.Errorf("key %q: empty, \".\" and \"..\" path segments are not allowed", key)
		}
	}
	if len(segs) < 3 || (segs[0] != "runs" && segs[0] != "hosts") || segs[1] != host {
		return fmt.Errorf("key %q is outside this host's prefixes runs/%s/ and hosts/%s/", key, host, host)
	}
	if method == http.MethodPut && segs[0] == "hosts" && len(segs) == 3 && segs[2] == "spec.yaml" {
		return fmt.Errorf("key %q is operator-owned: agents may read it, not write it", key)
	}
	return nil
}
