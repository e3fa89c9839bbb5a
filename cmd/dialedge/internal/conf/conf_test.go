package conf

import (
	"strings"
	"testing"
	"time"
)

type trunk struct {
	Address   string `yaml:"address"`
	Transport string `yaml:"transport"`
}

type sipCfg struct {
	Listen string `yaml:"listen"`
	Trunk  trunk  `yaml:"trunk"`
}

type testCfg struct {
	SIP   sipCfg             `yaml:"sip"`
	Ring  time.Duration      `yaml:"ring_limit"`
	Calls int                `yaml:"max_calls"`
	Debug bool               `yaml:"debug"`
	Mix   map[string]float64 `yaml:"mix"`
}

func TestLoadOrderYAMLEnvFlags(t *testing.T) {
	c := testCfg{Calls: 10, Ring: 32 * time.Second}
	y := "sip:\n  listen: 0.0.0.0:5060\n  trunk:\n    address: 127.0.0.1:5070\n    transport: udp\nmax_calls: 20\nmix: {human: 0.5, busy: 0.5}\n"
	if err := LoadYAML([]byte(y), &c); err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=/bin", "DIALEDGE_SIP_TRUNK_TRANSPORT=tcp", "DIALEDGE_RING_LIMIT=20s"}
	if err := ApplyEnv(env, "DIALEDGE_", &c); err != nil {
		t.Fatal(err)
	}
	if err := SetAll(&c, []string{"max_calls=30", "debug=true"}); err != nil {
		t.Fatal(err)
	}
	want := testCfg{SIP: sipCfg{Listen: "0.0.0.0:5060", Trunk: trunk{"127.0.0.1:5070", "tcp"}},
		Ring: 20 * time.Second, Calls: 30, Debug: true, Mix: map[string]float64{"human": 0.5, "busy": 0.5}}
	if c.SIP != want.SIP || c.Ring != want.Ring || c.Calls != want.Calls || c.Debug != want.Debug || c.Mix["busy"] != 0.5 {
		t.Fatalf("got %+v\nwant %+v", c, want)
	}
}

func TestErrorsNameTheKey(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(*testCfg) error
		want []string
	}{
		{"yaml typo", func(c *testCfg) error {
			return LoadYAML([]byte("sip:\n  trunk:\n    adress: x\n"), c)
		}, []string{`line 3: unknown key "sip.trunk.adress"`, "allowed keys under sip.trunk: address, transport"}},
		{"yaml top typo", func(c *testCfg) error {
			return LoadYAML([]byte("max_call: 3\n"), c)
		}, []string{`unknown key "max_call"`, "the top level"}},
		{"yaml bad type", func(c *testCfg) error {
			return LoadYAML([]byte("max_calls: lots\n"), c)
		}, []string{"line 1", "lots"}},
		{"section not mapping", func(c *testCfg) error {
			return LoadYAML([]byte("sip: 5\n"), c)
		}, []string{"sip must be a mapping"}},
		{"env typo", func(c *testCfg) error {
			return ApplyEnv([]string{"DIALEDGE_SIP_TRUNK_ADRESS=x"}, "DIALEDGE_", c)
		}, []string{"DIALEDGE_SIP_TRUNK_ADRESS matches no config key", "did you mean DIALEDGE_SIP_TRUNK_ADDRESS?"}},
		{"env bad duration", func(c *testCfg) error {
			return ApplyEnv([]string{"DIALEDGE_RING_LIMIT=32"}, "DIALEDGE_", c)
		}, []string{"ring_limit", `"32" is not a duration`}},
		{"flag unknown", func(c *testCfg) error { return SetAll(c, []string{"sip.lisen=1"}) },
			[]string{`unknown config key "sip.lisen"`, "allowed keys under sip: listen, trunk"}},
		{"flag no equals", func(c *testCfg) error { return SetAll(c, []string{"debug"}) },
			[]string{"want key=value"}},
		{"flag bad bool", func(c *testCfg) error { return SetAll(c, []string{"debug=maybe"}) },
			[]string{"key debug", "not a boolean"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c testCfg
			err := tc.run(&c)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestKeys(t *testing.T) {
	got := strings.Join(Keys(&testCfg{}), " ")
	want := "debug max_calls mix ring_limit sip.listen sip.trunk.address sip.trunk.transport"
	if got != want {
		t.Fatalf("Keys = %q, want %q", got, want)
	}
}

func FuzzLoadYAML(f *testing.F) {
	f.Add([]byte("sip:\n  listen: a\n"))
	f.Add([]byte("mix: {a: 1}\nmax_calls: 3\n"))
	f.Add([]byte("- 1\n- 2\n"))
	f.Add([]byte("sip: [1, 2]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var c testCfg
		_ = LoadYAML(data, &c) // must not panic
	})
}
