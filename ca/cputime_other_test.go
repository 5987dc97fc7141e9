//go:build !unix

package ca_test

import "time"

// cpuTime is not measured off unix; benchmarks then report 0 CPU time.
func cpuTime() time.Duration { return 0 }
