package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/crewjam/saml"
	"github.com/crewjam/saml/samlsp"

	"github.com/sigil-auth/sigil/internal/ssotest"
)

func main() {
	sp := flag.String("sp", "", "file holding the SP metadata (read at each request)")
	flag.Parse()
	o := ssotest.Start("bench-client", "bench-secret")
	defer o.Close()
	o.Next = ssotest.User{Subject: "bench-person", Email: "person@bench.test", EmailVerified: true}
	s := ssotest.StartSAML(time.Now)
	defer s.Close()
	s.SetSession("bench-nameid", "person@bench.test", "Bench Person")
	s.SPMetadata = func(string) (*saml.EntityDescriptor, error) {
		raw, err := os.ReadFile(*sp)
		if err != nil {
			return nil, err
		}
		return plain(samlsp.ParseMetadata(raw))
	}
	w := bufio.NewWriter(os.Stdout)
	fmt.Fprintf(w, "oidc %s\nsaml %s/metadata\n", o.URL, s.URL)
	w.Flush()
	io.Copy(io.Discard, os.Stdin)
}

// plain drops the SP's encryption key: assertions come signed, not
// encrypted, as most IdPs send them.
func plain(md *saml.EntityDescriptor, err error) (*saml.EntityDescriptor, error) {
	if err != nil {
		return nil, err
	}
	for i := range md.SPSSODescriptors {
		var kd []saml.KeyDescriptor
		for _, k := range md.SPSSODescriptors[i].KeyDescriptors {
			if k.Use != "encryption" {
				kd = append(kd, k)
			}
		}
		md.SPSSODescriptors[i].KeyDescriptors = kd
	}
	return md, nil
}
