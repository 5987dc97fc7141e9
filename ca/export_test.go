package ca

// TBSBothWays builds the TBS of req twice with the same serial and validity:
// the long way (x509util template, x509.CreateCertificate) and from the
// profile's skeleton, learnt by the first call. skeleton is nil when the
// profile has none (DNSNames profiles).
func TBSBothWays(i *Issuer, req Request) (long, skeleton []byte, err error) {
	in, err := i.input(&req)
	if err != nil {
		return nil, nil, err
	}
	tmpl, long, err := i.buildTBSLong(in)
	if err != nil {
		return nil, nil, err
	}
	i.learn(in.profile, tmpl, long, in)
	sk := i.skeleton(in.profile)
	if sk == nil {
		return long, nil, nil
	}
	_, skeleton, err = sk.build(in)
	return long, skeleton, err
}
