package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"hash"
)

// digestInput is the `with` of chat.digest.
type digestInput struct {
	Text      string `json:"text" hookflow:"required" desc:"The text to hash"`
	Key       string `json:"key,omitempty" desc:"HMAC key (a secret: use secrets.NAME); without it, a plain hash"`
	Algorithm string `json:"algorithm,omitempty" enum:"sha256,sha512,sha1" desc:"Default sha256"`
	Encoding  string `json:"encoding,omitempty" enum:"hex,base64" desc:"Default hex"`
}

type digestOutput struct {
	Digest    string `json:"digest"`
	Algorithm string `json:"algorithm"`
	Encoding  string `json:"encoding"`
	HMAC      bool   `json:"hmac"`
}

func digest(_ context.Context, in digestInput) (digestOutput, error) {
	out := digestOutput{Algorithm: in.Algorithm, Encoding: in.Encoding, HMAC: in.Key != ""}
	if out.Algorithm == "" {
		out.Algorithm = "sha256"
	}
	if out.Encoding == "" {
		out.Encoding = "hex"
	}
	newHash := map[string]func() hash.Hash{"sha256": sha256.New, "sha512": sha512.New, "sha1": sha1.New}[out.Algorithm]
	h := newHash()
	if out.HMAC {
		h = hmac.New(newHash, []byte(in.Key))
	}
	h.Write([]byte(in.Text))
	sum := h.Sum(nil)
	if out.Encoding == "base64" {
		out.Digest = base64.StdEncoding.EncodeToString(sum)
	} else {
		out.Digest = hex.EncodeToString(sum)
	}
	return out, nil
}
