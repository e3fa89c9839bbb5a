package edge

import (
	"slices"
	"strings"
	"testing"
)

// The ring attaches where the legs' media arrives: the loopback interface
// for any loopback bind address; an address no interface holds or a
// malformed one is an error that says what to set.
func TestRingInterfaces(t *testing.T) {
	for _, ip := range []string{"127.0.0.1", "127.0.0.2"} {
		ifs, err := ringInterfaces(ip)
		if err != nil || len(ifs) != 1 || !slices.Contains([]string{"lo", "lo0"}, ifs[0]) {
			t.Errorf("ringInterfaces(%s) = %v, %v; want the loopback interface", ip, ifs, err)
		}
	}
	if ifs, err := ringInterfaces("0.0.0.0"); err != nil || len(ifs) == 0 {
		t.Errorf("ringInterfaces(0.0.0.0) = %v, %v; want every interface that is up", ifs, err)
	}
	for ip, want := range map[string]string{
		"192.0.2.1": "set rtp_receive.ring.interfaces",
		"not-an-ip": `rtp.bind_ip "not-an-ip"`,
	} {
		if _, err := ringInterfaces(ip); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ringInterfaces(%s) error %v; want it to contain %q", ip, err, want)
		}
	}
}
