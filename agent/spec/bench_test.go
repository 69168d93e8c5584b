package spec

import (
	"bytes"
	"os"
	"testing"
)

func BenchmarkParseExample(b *testing.B) {
	data, err := os.ReadFile("testdata/example.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse(bytes.NewReader(data), "example.yaml"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompare(b *testing.B) {
	s, err := ParseFile("testdata/example.yaml")
	if err != nil {
		b.Fatal(err)
	}
	data, err := os.ReadFile("testdata/inventory-r640.json")
	if err != nil {
		b.Fatal(err)
	}
	inv := decodeInventory(b, data)
	for b.Loop() {
		if ds := Compare(s, inv); len(ds) != 0 {
			b.Fatal(ds)
		}
	}
}
