// Command vreg-compose-config loads a compose file the way `docker compose
// config` does (it is the same loader, compose-spec/compose-go) and prints the
// resolved project as JSON: .env / --env-file interpolation, `${VAR:?}`
// checks, YAML merge keys, the compose-spec JSON schema, normalisation.
// vreg's deployment tests use it where no Docker engine or compose plugin is
// installed.
//
//	vreg-compose-config [--env-file FILE]... COMPOSE_FILE
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/compose-spec/compose-go/v2/cli"
)

type files []string

func (f *files) String() string     { return fmt.Sprint(*f) }
func (f *files) Set(v string) error { *f = append(*f, v); return nil }

func main() {
	var envFiles files
	flag.Var(&envFiles, "env-file", "env file for interpolation (repeatable; default .env beside the compose file)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: vreg-compose-config [--env-file FILE]... COMPOSE_FILE")
		os.Exit(2)
	}
	opts, err := cli.NewProjectOptions(
		[]string{flag.Arg(0)},
		cli.WithWorkingDirectory(""),
		cli.WithEnvFiles(envFiles...),
		cli.WithDotEnv,
		cli.WithOsEnv,
		cli.WithInterpolation(true),
		cli.WithResolvedPaths(true),
	)
	if err != nil {
		fail(err)
	}
	project, err := opts.LoadProject(context.Background())
	if err != nil {
		fail(err)
	}
	out, err := project.MarshalJSON()
	if err != nil {
		fail(err)
	}
	os.Stdout.Write(out)
	os.Stdout.Write([]byte("\n"))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
