package corecmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/shakedown/shakedown/agent/cli"
	"github.com/shakedown/shakedown/agent/config"
	"github.com/shakedown/shakedown/agent/engine"
	"github.com/shakedown/shakedown/agent/event"
	"github.com/shakedown/shakedown/agent/journal"
	"github.com/shakedown/shakedown/agent/version"
	"github.com/shakedown/shakedown/collector"
	"github.com/shakedown/shakedown/collector/tool"
)

// RunHook lets other packages (upload, UI) join `shakedown-agent run`: it is
// called with the engine before the run starts, may set engine hooks and
// start goroutines bound to ctx, and may register its own flags first.
type RunHook struct {
	Name string
	// Flags declares the hook's flags on the run command.
	Flags func(fs FlagSet)
	// Start is called after flags are parsed; returning an error aborts the run.
	Start func(ctx context.Context, e *engine.Engine, s cli.IO) error
}

// FlagSet is the subset of *flag.FlagSet hooks need.
type FlagSet interface {
	String(name, value, usage string) *string
	Bool(name string, value bool, usage string) *bool
	Duration(name string, value time.Duration, usage string) *time.Duration
}

var (
	hookMu   sync.Mutex
	runHooks []RunHook
)

// RegisterRunHook adds a hook to the run command (from init()).
func RegisterRunHook(h RunHook) {
	hookMu.Lock()
	defer hookMu.Unlock()
	runHooks = append(runHooks, h)
}

func init() {
	cli.Implement("run", runCmd)
}

func runCmd(ctx context.Context, s cli.IO, args []string) error {
	fs := cli.NewFlagSet(s, "run", "[--profile safe|quick|full] [--config FILE] [--state-dir DIR] [flags]",
		"Runs the stages in order: Inventory, SpecValidate, SMART, CPUStress, Storage, Network, GPU, PSU, Reporting.\n"+
			"A failed stage holds the run until an operator acts (shakedown-agent action ...). An unfinished run in the\n"+
			"state dir is resumed; a stage that was open when the agent stopped is recorded as interrupted and held.\n"+
			"Profiles: safe (no disk writes), quick (minutes), full (the seed's durations).")
	profile := fs.String("profile", "", "profile: safe, quick or full (default: the config file's, else safe)")
	cfgPath := fs.String("config", "", "YAML config overriding durations, thresholds and which stages run")
	stateDir := fs.String("state-dir", DefaultStateDir(), "directory for the journal and work files")
	root := fs.String("path.root", "/", "root the hardware probes read under (a fixture tree in tests)")
	newRun := fs.Bool("new", false, "close an unfinished run as abandoned and start a new one instead of resuming it")
	stay := fs.Bool("stay", false, "after Completed, keep serving until the run is released")
	logLevel := fs.String("log.level", "info", "log level: debug, info, warn, error")
	flags := config.RegisterFlags(fs, engine.Order)
	hookMu.Lock()
	hooks := append([]RunHook(nil), runHooks...)
	hookMu.Unlock()
	for _, h := range hooks {
		if h.Flags != nil {
			h.Flags(fs)
		}
	}
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cli.UsageErrorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if *profile != "" && !config.ValidProfile(*profile) {
		return cli.UsageErrorf("--profile %q: unknown (use one of %s)", *profile, strings.Join(config.Profiles, ", "))
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return cli.UsageErrorf("--log.level %q: use debug, info, warn or error", *logLevel)
	}
	log := slog.New(slog.NewTextHandler(s.Stderr, &slog.HandlerOptions{Level: level}))

	cfg, err := config.Load(*cfgPath, *profile, engine.Order)
	if err != nil {
		return err
	}
	if err := flags.Apply(cfg); err != nil {
		return cli.UsageErrorf("%v", err)
	}
	if err := os.MkdirAll(*stateDir, 0o755); err != nil {
		return fmt.Errorf("create state dir: %w", err)
	}
	unlock, err := lockStateDir(*stateDir)
	if err != nil {
		return err
	}
	defer unlock()
	j, err := journal.Open(JournalPath(*stateDir))
	if err != nil {
		return err
	}
	defer j.Close()

	tools := &tool.Exec{Log: log}
	e := &engine.Engine{
		Journal: j, Config: cfg, Bus: event.NewBus(), Tools: tools, StateDir: *stateDir, Log: log,
		Collector:    collector.Env{Root: *root, Tools: tools, Log: log},
		AgentVersion: version.Version, NewRun: *newRun, ExitWhenComplete: !*stay,
	}
	ln, err := engine.ListenControl(*stateDir)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: e.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		_ = os.Remove(filepath.Join(*stateDir, engine.SocketName))
	}()

	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for _, h := range hooks {
		if h.Start != nil {
			if err := h.Start(rctx, e, s); err != nil {
				return fmt.Errorf("start %s: %w", h.Name, err)
			}
		}
	}
	ch, unsub := e.Bus.Subscribe(1024)
	printed := make(chan struct{})
	go func() {
		defer close(printed)
		printEvents(s.Stdout, ch)
	}()
	var svcWG sync.WaitGroup
	svcCtx, stopSvcs := context.WithCancel(rctx)
	startServices := sync.OnceFunc(func() {
		for _, svc := range engine.Services() {
			svcWG.Add(1)
			go func() {
				defer svcWG.Done()
				if err := svc.Run(svcCtx, e.ServiceHost(svcCtx)); err != nil && !errors.Is(err, context.Canceled) {
					log.Error("service stopped", "service", svc.Name(), "err", err)
				}
			}()
		}
	})
	// Services need a run id; start them at the first state change.
	svcCh, svcUnsub := e.Bus.Subscribe(4)
	go func() {
		for range svcCh {
			startServices()
			return
		}
	}()
	fmt.Fprintf(s.Stdout, "shakedown-agent %s: profile %s, state dir %s\n", version.Version, cfg.Profile, *stateDir)
	runErr := e.Run(rctx)
	stopSvcs()
	svcWG.Wait()
	svcUnsub()
	unsub()
	<-printed

	r := e.Current()
	st, _ := engine.ReadStatus(context.WithoutCancel(ctx), j, r.ID)
	fmt.Fprintf(s.Stdout, "\nrun %s: state %s", r.ID, r.State)
	if r.Result != "" {
		fmt.Fprintf(s.Stdout, ", result %s", r.Result)
	}
	fmt.Fprintf(s.Stdout, "\njournal: %s\n", j.Path())
	if st.Next != "" {
		fmt.Fprintf(s.Stdout, "next: %s\n", st.Next)
	}
	if runErr != nil && !errors.Is(runErr, context.Canceled) {
		return runErr
	}
	if errors.Is(runErr, context.Canceled) {
		fmt.Fprintln(s.Stdout, "agent stopped; run `shakedown-agent run` with the same --state-dir to resume")
	}
	return nil
}

func printEvents(w io.Writer, ch <-chan event.Event) {
	for ev := range ch {
		ts := ev.When().Local().Format("15:04:05")
		switch e := ev.(type) {
		case event.StateChanged:
			fmt.Fprintf(w, "[%s] state %s -> %s\n", ts, orDash(e.From), e.To)
		case event.StageFinished:
			msg := e.Message
			if e.Reason != "" && !strings.HasPrefix(msg, e.Reason) {
				msg = e.Reason + ": " + msg
			}
			fmt.Fprintf(w, "[%s] %-12s %-4s %s\n", ts, e.Stage, e.Status, msg)
		case event.Notice:
			fmt.Fprintf(w, "[%s] NOTICE %s: %s\n", ts, e.Kind, e.Message)
		case event.Action:
			fmt.Fprintf(w, "[%s] action %s by %s: %s\n", ts, e.Kind, e.Who, e.Reason)
		}
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// lockStateDir takes an exclusive lock so two agents never share a journal.
func lockStateDir(dir string) (func(), error) {
	p := filepath.Join(dir, "agent.lock")
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b, _ := io.ReadAll(f)
		f.Close()
		return nil, fmt.Errorf("another agent is running on state dir %s (pid %s); stop it or use another --state-dir", dir, strings.TrimSpace(string(b)))
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(fmt.Sprintf("%d\n", os.Getpid())), 0)
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
