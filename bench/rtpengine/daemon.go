package rtpengine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

// ErrNotInstalled means the rtpengine binary was not found.
var ErrNotInstalled = errors.New("rtpengine not installed: apt-get install -y rtpengine-daemon (Debian package; userspace mode needs no kernel module)")

// DaemonConfig configures a userspace rtpengine on loopback.
type DaemonConfig struct {
	// Binary is the rtpengine program (default "rtpengine").
	Binary string `yaml:"binary"`
	// PortMin and PortMax bound its media ports.
	PortMin int `yaml:"port_min"`
	PortMax int `yaml:"port_max"`
	// Threads is --num-threads (0: rtpengine's default).
	Threads int `yaml:"threads"`
	// LogLevel is rtpengine's syslog-style level (default 3: errors).
	LogLevel int `yaml:"log_level"`
	// Log receives the daemon's stderr (nil: discarded).
	Log io.Writer `yaml:"-"`
}

// DefaultDaemonConfig uses media ports 50000-59999.
func DefaultDaemonConfig() DaemonConfig {
	return DaemonConfig{Binary: "rtpengine", PortMin: 50000, PortMax: 59999, LogLevel: 3}
}

// Daemon is a running rtpengine child process.
type Daemon struct {
	PID    int
	NGAddr string
	Client *Client
	cmd    *exec.Cmd
	done   chan struct{}
	err    error
}

// Start runs rtpengine in the foreground, in userspace mode (--table=-1),
// on 127.0.0.1, with no config file, and waits until it answers ping.
func Start(ctx context.Context, cfg DaemonConfig) (*Daemon, error) {
	if cfg.Binary == "" {
		cfg.Binary = "rtpengine"
	}
	bin, err := exec.LookPath(cfg.Binary)
	if err != nil {
		return nil, fmt.Errorf("%w (looked for %q: %v)", ErrNotInstalled, cfg.Binary, err)
	}
	if cfg.PortMin < 1024 || cfg.PortMax > 65535 || cfg.PortMax-cfg.PortMin < 4 {
		return nil, fmt.Errorf("rtpengine: ports %d-%d; allowed 1024 <= min, max <= 65535, at least 4 ports", cfg.PortMin, cfg.PortMax)
	}
	ngPort, err := freeUDPPort()
	if err != nil {
		return nil, err
	}
	d := &Daemon{NGAddr: "127.0.0.1:" + strconv.Itoa(ngPort), done: make(chan struct{})}
	args := []string{"--config-file=none", "--foreground", "--log-stderr", "--table=-1",
		"--interface=127.0.0.1", "--listen-ng=" + d.NGAddr,
		"--port-min=" + strconv.Itoa(cfg.PortMin), "--port-max=" + strconv.Itoa(cfg.PortMax),
		"--log-level=" + strconv.Itoa(max(cfg.LogLevel, 1)), "--delete-delay=0"}
	if cfg.Threads > 0 {
		args = append(args, "--num-threads="+strconv.Itoa(cfg.Threads))
	}
	d.cmd = exec.Command(bin, args...)
	d.cmd.Stdout, d.cmd.Stderr = cfg.Log, cfg.Log
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := d.cmd.Start(); err != nil {
		return nil, fmt.Errorf("rtpengine: start: %w", err)
	}
	d.PID = d.cmd.Process.Pid
	go func() { d.err = d.cmd.Wait(); close(d.done) }()
	d.Client, err = Dial(d.NGAddr)
	if err != nil {
		_ = d.Stop()
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	pingErr := make(chan error, 1)
	go func() { pingErr <- d.Client.Ping(pctx) }()
	select {
	case err := <-pingErr:
		if err != nil {
			_ = d.Stop()
			return nil, fmt.Errorf("rtpengine: not answering ping on %s: %w", d.NGAddr, err)
		}
	case <-d.done:
		cancel()
		<-pingErr
		_ = d.Stop()
		return nil, fmt.Errorf("rtpengine exited at start: %v (run %s %v to see why)", d.err, bin, args)
	}
	return d, nil
}

func freeUDPPort() (int, error) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port, nil
}

// Exited is closed when the daemon has ended.
func (d *Daemon) Exited() <-chan struct{} { return d.done }

// Stop closes the client, sends SIGTERM, waits up to 5 s, then kills.
// Safe to call twice.
func (d *Daemon) Stop() error {
	if d.Client != nil {
		_ = d.Client.Close()
	}
	select {
	case <-d.done:
		return nil
	default:
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
		return nil
	case <-time.After(5 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.done
		return errors.New("rtpengine: did not stop within 5 s of SIGTERM; killed")
	}
}
