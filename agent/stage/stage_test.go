package stage

import (
	"regexp"
	"testing"
)

// TestValidCode: the loop accepts exactly what ^[A-Za-z]+$ accepts.
func TestValidCode(t *testing.T) {
	re := regexp.MustCompile(`^[A-Za-z]+$`)
	cases := []string{"", "a", "Z", "ReallocatedSectors", "abc1", "a b", "a-b", "@", "[", "`", "{", "\xc3\xa9", "A\x00", "zZ"}
	for b := 0; b < 256; b++ {
		cases = append(cases, string([]byte{byte(b)}), "Ab"+string([]byte{byte(b)}))
	}
	for _, c := range cases {
		if got, want := ValidCode(c), re.MatchString(c); got != want {
			t.Errorf("ValidCode(%q) = %v, want %v", c, got, want)
		}
	}
}
