package registra

// FillHashGate takes every slot of p's gate of slow hashes and fills its
// queue, so that the next hash is refused with ErrBusy; release undoes it.
func FillHashGate(p *Platform) (release func()) {
	g := p.hashes
	for range cap(g.slots) {
		g.slots <- struct{}{}
	}
	g.bounded.Add(g.maxWait)
	return func() {
		g.bounded.Add(-g.maxWait)
		for range cap(g.slots) {
			g.Leave()
		}
	}
}
