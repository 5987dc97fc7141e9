//go:build cgo

package hsm

import (
	"errors"
	"fmt"
	"sync"

	"github.com/miekg/pkcs11"
)

// probe asks the module, outside crypto11, whether the token the Token was
// opened on is still there. crypto11 hides the module handle and the slot,
// and an object handle that stopped working (CKR_OBJECT_HANDLE_INVALID) means
// either "this key was deleted" or "the whole token was removed": SoftHSM2
// reports both the same way. C_GetTokenInfo on the slot tells them apart.
//
// The probe loads the same library (dlopen returns the instance crypto11
// loaded) and calls C_Initialize, which answers
// CKR_CRYPTOKI_ALREADY_INITIALIZED: the module is shared, never finalised
// here, so crypto11 keeps its state.
type probe struct {
	mu     sync.Mutex
	ctx    *pkcs11.Ctx
	owns   bool // this probe initialised the module and must finalise it
	slot   uint
	label  string
	serial string
}

// newProbe finds the slot holding the token with the given label, in the
// order crypto11 searches (C_GetSlotList with tokens present).
func newProbe(module, label string) (*probe, error) {
	ctx := pkcs11.New(module)
	if ctx == nil {
		return nil, fmt.Errorf("loading %s a second time: %w", module, ErrModule)
	}
	p := &probe{ctx: ctx, label: label}
	err := ctx.Initialize()
	var perr pkcs11.Error
	switch {
	case err == nil:
		// Not shared with crypto11 after all (another copy of the library):
		// this probe owns the initialisation.
		p.owns = true
	case errors.As(err, &perr) && perr == pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED:
	default:
		ctx.Destroy()
		return nil, err
	}
	slots, err := ctx.GetSlotList(true)
	if err != nil {
		p.close()
		return nil, err
	}
	for _, s := range slots {
		ti, err := ctx.GetTokenInfo(s)
		if err != nil {
			continue
		}
		if ti.Label == label {
			p.slot, p.serial = s, ti.SerialNumber
			return p, nil
		}
	}
	p.close()
	return nil, fmt.Errorf("token %q vanished while opening: %w", label, ErrTokenGone)
}

// check returns nil when the slot still holds the initialised token with the
// label and serial number seen at open, and an error saying what changed
// otherwise.
func (p *probe) check() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ctx == nil {
		return ErrClosed
	}
	ti, err := p.ctx.GetTokenInfo(p.slot)
	if err != nil {
		return fmt.Errorf("token info of slot %d: %w", p.slot, err)
	}
	switch {
	case ti.Flags&pkcs11.CKF_TOKEN_INITIALIZED == 0:
		return fmt.Errorf("slot %d holds no initialised token", p.slot)
	case ti.Label != p.label || ti.SerialNumber != p.serial:
		return fmt.Errorf("slot %d now holds token %q serial %q, not %q serial %q",
			p.slot, ti.Label, ti.SerialNumber, p.label, p.serial)
	}
	return nil
}

// close releases the library handle; it finalises the module only when this
// probe initialised it.
func (p *probe) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ctx == nil {
		return
	}
	if p.owns {
		_ = p.ctx.Finalize() // nothing to do on failure: the handle goes next
	}
	p.ctx.Destroy()
	p.ctx = nil
}
