package rules

import (
	"math/rand/v2"
	"testing"
)

// TestHitsBetween compares hitsBetween, linear on short lists and by
// halves on long ones, with filtering the list, on lists of every length
// around linearHits.
func TestHitsBetween(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for n := 0; n <= 2*linearHits+2; n++ {
		for range 20 {
			list := make([]hit, n)
			t0 := int32(0)
			for i := range list {
				t0 += rng.Int32N(3) // repeats included
				list[i].t0 = t0
			}
			lo := rng.Int32N(t0+3) - 1
			hi := lo - 1 + rng.Int32N(6)
			var want []int32
			for _, h := range list {
				if h.t0 >= lo && h.t0 <= hi {
					want = append(want, h.t0)
				}
			}
			got := hitsBetween(list, lo, hi)
			if len(got) != len(want) {
				t.Fatalf("n=%d [%d, %d]: %d hits, want %d", n, lo, hi, len(got), len(want))
			}
			for i := range got {
				if got[i].t0 != want[i] {
					t.Fatalf("n=%d [%d, %d]: hit %d at %d, want %d", n, lo, hi, i, got[i].t0, want[i])
				}
			}
		}
	}
}
