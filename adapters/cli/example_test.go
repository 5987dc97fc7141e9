package cli_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/registra-pki/registra/adapters/cli"
	"github.com/registra-pki/registra/lifecycle"
)

// A main runs the command tree with the process's streams and exits with
// the code Run returns.
func ExampleRun() {
	code := cli.Run(context.Background(), cli.Config{Stdout: os.Stdout, Stderr: os.Stdout},
		[]string{"recognition", "requirements", "offline"})
	fmt.Println("exit", code)

	code = cli.Run(context.Background(), cli.Config{Stdout: os.Stdout, Stderr: os.Stdout},
		[]string{"suspend", "P-1", "--until", "next week"})
	fmt.Println("exit", code)
	// Output:
	// Method:           offline
	// Steps:            enter_request → upload_document → upload_form → upload_report → officer_details → seal
	// Artefacts:        signed_paper_form, recognition_report
	// Document images:  yes
	// OTP signature:    no
	// Roles:            operator, ir, rao, master_rao
	// Usage limited:    no
	// exit 0
	// registra: usage: --until: "next week" is neither YYYY-MM-DD nor an RFC 3339 time
	// Run 'registra --help' for usage.
	// exit 2
}

// ExitCode maps the library's errors to the documented exit codes.
func ExampleExitCode() {
	fmt.Println(cli.ExitCode(nil))
	fmt.Println(cli.ExitCode(fmt.Errorf("suspending: %w", lifecycle.ErrTransition)))
	fmt.Println(cli.ExitCode(&cli.UsageError{Msg: "--until is required"}))
	fmt.Println(cli.ExitCode(&cli.UnreachableError{URL: "https://127.0.0.1:8443", Err: errors.New("connection refused")}))
	// Output:
	// 0
	// 1
	// 2
	// 3
}
