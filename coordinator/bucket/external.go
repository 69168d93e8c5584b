package bucket

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// ExternalConfig is the YAML file given to `serve --external-s3`: an S3
// endpoint the coordinator uses instead of its embedded server.
//
//	endpoint: https://rgw.example.net:7480
//	region: us-east-1
//	bucket: shakedown
//	access_key_file: /etc/shakedown/s3-access   # or access_key: ...
//	secret_key_file: /etc/shakedown/s3-secret   # or secret_key: ...
//	ca_file: /etc/shakedown/rgw-ca.pem          # optional, private CA
type ExternalConfig struct {
	Endpoint      string `yaml:"endpoint"`
	Region        string `yaml:"region"`
	Bucket        string `yaml:"bucket"`
	AccessKey     string `yaml:"access_key"`
	SecretKey     string `yaml:"secret_key"`
	AccessKeyFile string `yaml:"access_key_file"`
	SecretKeyFile string `yaml:"secret_key_file"`
	CAFile        string `yaml:"ca_file"`
}

// ParseExternalConfig reads the YAML config. Unknown fields are an error, so
// a typo does not silently fall back to a default. Relative key and CA file
// paths are resolved against baseDir (the config file's directory).
func ParseExternalConfig(r io.Reader, baseDir string) (Endpoint, error) {
	var c ExternalConfig
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return Endpoint{}, fmt.Errorf("parse external s3 config: %w", err)
	}
	if c.Endpoint == "" {
		return Endpoint{}, fmt.Errorf("external s3 config: endpoint is required")
	}
	if !strings.HasPrefix(c.Endpoint, "https://") && !strings.HasPrefix(c.Endpoint, "http://") {
		return Endpoint{}, fmt.Errorf("external s3 config: endpoint %q must start with https:// or http://", c.Endpoint)
	}
	if c.Bucket == "" {
		c.Bucket = DefaultBucket
	}
	resolve := func(p string) string {
		if p != "" && !filepath.IsAbs(p) {
			return filepath.Join(baseDir, p)
		}
		return p
	}
	var err error
	ep := Endpoint{URL: strings.TrimRight(c.Endpoint, "/"), Region: c.Region, Bucket: c.Bucket}
	if ep.AccessKey, err = secret("access key", c.AccessKey, resolve(c.AccessKeyFile)); err != nil {
		return Endpoint{}, err
	}
	if ep.SecretKey, err = secret("secret key", c.SecretKey, resolve(c.SecretKeyFile)); err != nil {
		return Endpoint{}, err
	}
	if c.CAFile != "" {
		if ep.CAPEM, err = os.ReadFile(resolve(c.CAFile)); err != nil {
			return Endpoint{}, fmt.Errorf("external s3 config: read ca_file: %w", err)
		}
	}
	return ep, nil
}

// LoadExternalConfig reads ParseExternalConfig's format from a file.
func LoadExternalConfig(path string) (Endpoint, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Endpoint{}, fmt.Errorf("read external s3 config: %w", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return Endpoint{}, fmt.Errorf("external s3 config path: %w", err)
	}
	return ParseExternalConfig(bytes.NewReader(b), filepath.Dir(abs))
}

func secret(what, inline, file string) (string, error) {
	switch {
	case inline != "" && file != "":
		return "", fmt.Errorf("external s3 config: give the %s inline or as a file, not both", what)
	case inline != "":
		return inline, nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("external s3 config: read %s file: %w", what, err)
		}
		v := strings.TrimSpace(string(b))
		if v == "" {
			return "", fmt.Errorf("external s3 config: %s file %s is empty", what, file)
		}
		return v, nil
	}
	return "", fmt.Errorf("external s3 config: the %s is required", what)
}
