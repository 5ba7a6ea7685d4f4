// Package serve serves the workbench TUI over SSH (charmbracelet/wish): one
// training run, many clients, each with its own tui.Model, screen size and
// view state, all fed by their own engine.Hub subscription.
//
// It owns SSH authentication and roles, the host key, the client registry
// (limit, idle and stall timeouts, teardown), the audit log of who did
// what (Log: the terminal and, once sessions/live adds it, the session's
// serve.log) and the start-up lines that tell the operator how to connect
// (Server.WriteBanner). It never imports the engine's implementation (nor gorgonia): the
// run is a Source of engine.Trainer views, so tests serve a fake engine.
//
// # Roles
//
// Public-key authentication only; password and keyboard-interactive are
// never offered. Keys in the operators file (authorized_keys format) may
// change knobs, pause, checkpoint, evaluate and stop; keys in the viewers
// file get a read-only screen. A key in both is an operator. Other keys are
// refused. The files are re-read when they change, so adding a key needs
// no restart; a file that stops parsing keeps its last good contents.
//
// The role is decided from the key the connection authenticated with
// (ssh.Session.PublicKey), never from state left by the authentication
// callback, which OpenSSH-style clients call for every key they merely
// offer.
//
// Every control call of a client carries its identity, "<comment>@SHA256:
// <first 8 of the key fingerprint>" (the comment from the keys file, else
// the SSH user name), as the engine's By, so the session's events.jsonl and
// every screen's log say who changed what. Viewers are refused twice: by the
// TUI (tui.Options.ReadOnly) and by the Trainer the server hands them.
//
// # Quitting
//
// Every SSH client runs the TUI with tui.Options.Detach: q and ctrl+c
// detach that client only; an operator stops the run for everyone with S
// and a y/n confirmation. A shared server should not end a colleague's run
// because somebody closed their laptop's terminal the usual way.
//
// # Concurrency
//
// The engine never waits for a client: the hub queues per subscriber, so a
// slow, hung or tiny-window client costs only its own goroutines and queue.
// What a client does cost is CPU, mostly redrawing charts; so its events
// are merged and handed to its TUI at most every Config.Redraw (500 ms by
// default, see throttle); BenchmarkServeClients measures the rest.
// Each client's tea.Program runs on its session's goroutine; everything the
// server sends it (notices, quit) goes through Program.Send on a separate
// goroutine, since a program whose terminal stopped reading may never
// receive. A watchdog per client disconnects it after IdleTimeout without a
// key press, or when a write to its terminal has been blocked for
// StallTimeout (the client stopped reading: suspended ssh, dead network),
// by closing the SSH connection, which unblocks every pending write. When
// the session handler returns, the client's hub subscription is cancelled.
package serve
