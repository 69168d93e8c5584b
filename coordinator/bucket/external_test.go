package bucket

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseExternalConfig(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "secret"), []byte("s3cr3t\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "ca.pem"), []byte("PEM"), 0o644)
	tests := []struct {
		name, yaml string
		want       Endpoint
		err        string
	}{
		{name: "inline and files", yaml: "endpoint: https://rgw.example:7480/\nregion: eu-1\naccess_key: AK\nsecret_key_file: secret\nca_file: ca.pem\n",
			want: Endpoint{URL: "https://rgw.example:7480", Region: "eu-1", Bucket: "shakedown", AccessKey: "AK", SecretKey: "s3cr3t", CAPEM: []byte("PEM")}},
		{name: "bucket", yaml: "endpoint: http://minio:9000\nbucket: hw\naccess_key: a\nsecret_key: b\n",
			want: Endpoint{URL: "http://minio:9000", Bucket: "hw", AccessKey: "a", SecretKey: "b"}},
		{name: "no endpoint", yaml: "access_key: a\nsecret_key: b\n", err: "endpoint is required"},
		{name: "no scheme", yaml: "endpoint: minio:9000\naccess_key: a\nsecret_key: b\n", err: "must start with"},
		{name: "typo", yaml: "endpoint: http://m\nacess_key: a\nsecret_key: b\n", err: "acess_key"},
		{name: "both", yaml: "endpoint: http://m\naccess_key: a\nsecret_key: b\nsecret_key_file: secret\n", err: "not both"},
		{name: "missing secret", yaml: "endpoint: http://m\naccess_key: a\n", err: "secret key is required"},
		{name: "missing file", yaml: "endpoint: http://m\naccess_key: a\nsecret_key_file: nope\n", err: "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseExternalConfig(strings.NewReader(tc.yaml), dir)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.URL != tc.want.URL || got.Region != tc.want.Region || got.Bucket != tc.want.Bucket ||
				got.AccessKey != tc.want.AccessKey || got.SecretKey != tc.want.SecretKey || string(got.CAPEM) != string(tc.want.CAPEM) {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}
