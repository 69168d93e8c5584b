module github.com/jaypipes/pcidb

go 1.21
