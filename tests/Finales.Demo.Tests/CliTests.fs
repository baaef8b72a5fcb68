/// The command line on System.CommandLine (hosts/Finales.Cli): generated help on every command, one error convention
/// (the flag and the value named, exit code 2), and tab completion through the [suggest] directive.
module Finales.Demo.Tests.CliTests

open System
open System.CommandLine
open System.IO
open Expecto
open Finales.Integration.Tests

/// Runs the built CLI as a process; exit code and stdout + stderr.
let private finales (args: string) =
    Harness.run "dotnet" (sprintf "\"%s\" %s" Harness.cliDll args) []

/// Runs the CLI's real command tree in this process, for the many help texts; exit code, stdout, stderr.
let private inProcess (args: string list) =
    use out = new StringWriter()
    use err = new StringWriter()

    let code =
        Finales.Cli.CliRunner.Run(Finales.Cli.Program.Root(), Array.ofList args, out, err)

    code, out.ToString(), err.ToString()

/// Every command below the root with its path of names.
let rec private descendants (path: string list) (command: Command) : (string list * Command) list =
    [ for sub in command.Subcommands do
          let p = path @ [ sub.Name ]
          yield p, sub
          yield! descendants p sub ]

let private ownOptions (command: Command) =
    [ for o in command.Options do
          if not (o :? Help.HelpOption) then
              o.Name ]

let private topLevel = Finales.Cli.Program.Root().Subcommands |> List.ofSeq

[<Tests>]
let tests =
    testList
        "cli"
        [ testList
              "help"
              [ for command in topLevel do
                    test (sprintf "./finales %s --help exits 0 and names every option" command.Name) {
                        let code, out = finales (sprintf "%s --help" command.Name)
                        Expect.equal code 0 (sprintf "exit code; output:\n%s" out)
                        Expect.stringContains out (sprintf "finales %s" command.Name) "the usage line names the command"
                        Expect.stringContains out command.Description "the help shows the command's description"

                        for option in ownOptions command do
                            Expect.stringContains out option (sprintf "the help names %s" option)

                        for sub in command.Subcommands do
                            Expect.stringContains out sub.Name (sprintf "the help lists the sub-command %s" sub.Name)
                    }

                test "every sub-command's --help names its options and prints its examples" {
                    let root = Finales.Cli.Program.Root()
                    // In this process the root command is named after the test executable, not finales.
                    let rootName = root.Name
                    let all = descendants [] root
                    Expect.isGreaterThan all.Length 30 "the whole tree: groups and their sub-commands"

                    for path, command in all do
                        let code, out, err = inProcess (path @ [ "--help" ])
                        let shown = String.Join(" ", path)
                        Expect.equal code 0 (sprintf "%s --help exit code; stderr: %s" shown err)
                        Expect.stringContains out (sprintf "%s %s" rootName shown) (sprintf "%s: usage line" shown)

                        // A default is shown as a person would write it (--md-share's 1/3 once read 0.3333333333333333).
                        let longDefault =
                            System.Text.RegularExpressions.Regex.Match(out, @"\[default: -?[0-9]*\.[0-9]{7,}\]")

                        Expect.isFalse longDefault.Success (sprintf "%s --help shows %s" shown longDefault.Value)

                        for option in ownOptions command do
                            Expect.stringContains out option (sprintf "%s --help names %s" shown option)

                        match command with
                        | :? Finales.Cli.FinalesCommand as f ->
                            for example in f.Examples do
                                Expect.stringContains out example (sprintf "%s --help shows its example" shown)
                        | _ -> ()
                }

                test "./finales alone and a group without its sub-command print the help and exit 1, as before" {
                    let code, out = finales ""
                    Expect.equal code 1 (sprintf "bare ./finales; output:\n%s" out)
                    Expect.stringContains out "tenant" "lists the commands"
                    let code, out = finales "tenant"
                    Expect.equal code 1 (sprintf "bare ./finales tenant; output:\n%s" out)
                    Expect.stringContains out "demo-cell" "lists the tenant kinds"

                    for words in [ [ "help" ]; [ "tenant"; "help" ]; [ "device"; "help" ] ] do
                        let code, out, err = inProcess words
                        Expect.equal code 0 (sprintf "%A: the help word, exit 0; stderr: %s" words err)
                        Expect.stringContains out "Usage:" (sprintf "%A prints the help" words)
                } ]

          testList
              "errors"
              [ test "an unknown option exits 2 and names it" {
                    let code, out = finales "bench broker --no-such-flag"
                    Expect.equal code 2 (sprintf "exit code; output:\n%s" out)
                    Expect.stringContains out "--no-such-flag" "names the flag"
                    Expect.stringContains out "finales bench broker" "names the command"
                }

                test "a bad value exits 2 naming the flag and the value" {
                    let code, out = finales "demo --iterations many"
                    Expect.equal code 2 (sprintf "exit code; output:\n%s" out)
                    Expect.stringContains out "--iterations must be an integer, got 'many'" "names flag and value"

                    let code, _, err = inProcess [ "bench"; "broker"; "--workers"; "300" ]
                    Expect.equal code 2 "a value out of range"
                    Expect.stringContains err "--workers must be in 1..256, got 300" "names flag, range and value"
                }

                test "a JSON command reports a bad flag value as {\"error\": ...} on stdout, exit 2" {
                    let code, out, err =
                        inProcess [ "route"; "--graph"; "g"; "--from"; "a"; "--to"; "b"; "--by"; "speed" ]

                    Expect.equal code 2 (sprintf "exit code; stderr: %s" err)

                    let error =
                        Text.Json.JsonDocument.Parse(out).RootElement.GetProperty("error").GetString()

                    Expect.stringContains error "--by must be dead_volume or length, got 'speed'" "names flag and value"

                    let code, out, _ = inProcess [ "bench"; "gp"; "--n"; "10,1" ]
                    Expect.equal code 2 "bench gp: a size out of range"

                    let error =
                        Text.Json.JsonDocument.Parse(out).RootElement.GetProperty("error").GetString()

                    Expect.stringContains error "--n contains '1'" "names flag and value"
                }

                test "an unknown command names it (exit 1 at the top as before, 2 in a group with the choices)" {
                    let code, out = finales "no-such-command"
                    Expect.equal code 1 (sprintf "exit code; output:\n%s" out)
                    Expect.stringContains out "unknown command 'no-such-command'" "names it"
                    let code, out, err = inProcess [ "tenant"; "no-such-kind" ]
                    Expect.equal code 2 (sprintf "exit code; stdout: %s" out)
                    Expect.stringContains err "unknown command 'no-such-kind'" "names it"
                    Expect.stringContains err "conductivity, asab, optimizer, md, cell or demo-cell" "lists the choices"
                }

                test "device keeps its documented usage exit code 1" {
                    let code, out = finales "device balance --port 0"
                    Expect.equal code 1 (sprintf "exit code; output:\n%s" out)
                    Expect.stringContains out "--port must be in 1..65535, got 0" "names flag and value"
                } ]

          testList
              "completion"
              [ test "the [suggest] directive completes `./finales ten` to tenant" {
                    let code, out = finales "\"[suggest:13]\" \"./finales ten\""
                    Expect.equal code 0 (sprintf "exit code; output:\n%s" out)

                    Expect.equal
                        (out.Split('\n', StringSplitOptions.RemoveEmptyEntries ||| StringSplitOptions.TrimEntries)
                         |> List.ofArray)
                        [ "tenant" ]
                        "the one command starting with ten"
                }

                test "the bash script printed by `completion bash` completes `finales ten` to tenant in bash" {
                    let dir = Harness.tempDir "completion"
                    let shim = Path.Combine(dir, "finales")
                    File.WriteAllText(shim, sprintf "#!/bin/sh\nexec dotnet \"%s\" \"$@\"\n" Harness.cliDll)

                    File.SetUnixFileMode(
                        shim,
                        UnixFileMode.UserRead ||| UnixFileMode.UserWrite ||| UnixFileMode.UserExecute
                    )

                    let script =
                        "source <(finales completion bash); COMP_WORDS=(finales ten); COMP_CWORD=1; "
                        + "COMP_LINE='finales ten'; COMP_POINT=11; _finales_complete; echo \"[${COMPREPLY[*]}]\""

                    let code, out =
                        Harness.run
                            "bash"
                            (sprintf "-c \"%s\"" (script.Replace("\"", "\\\"")))
                            [ "PATH", dir + ":" + Environment.GetEnvironmentVariable "PATH" ]

                    Expect.equal code 0 (sprintf "exit code; output:\n%s" out)
                    Expect.stringContains out "[tenant]" "bash offers tenant"
                }

                test "completion zsh prints a zsh script on the same directive" {
                    let code, out = finales "completion zsh"
                    Expect.equal code 0 (sprintf "exit code; output:\n%s" out)
                    Expect.stringContains out "compdef _finales finales" "registers the function"
                    Expect.stringContains out "[suggest:" "asks the CLI"
                } ] ]
