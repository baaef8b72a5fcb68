using System.CommandLine;

namespace Finales.Cli;

/// <summary>
/// `finales completion bash|zsh`: prints a shell completion script. The script asks the CLI itself through
/// System.CommandLine's `[suggest:POSITION]` directive, so it always offers the commands and flags of this build.
/// </summary>
public static class CompletionCommand
{
    private const string Bash = """
        # bash completion for finales: source <(./finales completion bash)
        _finales_complete() {
          local IFS=$'\n'
          local candidates
          candidates="$("${COMP_WORDS[0]}" "[suggest:${COMP_POINT}]" "${COMP_LINE}" 2>/dev/null)"
          COMPREPLY=( $(compgen -W "${candidates}" -- "${COMP_WORDS[COMP_CWORD]}") )
        }
        complete -o default -F _finales_complete finales ./finales
        """;

    private const string Zsh = """
        #compdef finales
        # zsh completion for finales: source <(./finales completion zsh)
        _finales() {
          local -a candidates
          candidates=("${(@f)$("${words[1]}" "[suggest:${CURSOR}]" "${BUFFER}" 2>/dev/null)}")
          compadd -a candidates
        }
        compdef _finales finales ./finales
        """;

    public static FinalesCommand Create()
    {
        var shell = new Argument<string>("shell") { Description = "bash or zsh" };
        shell.AcceptOnlyFromAmong("bash", "zsh");
        var command = new FinalesCommand("completion", "print a tab-completion script for bash or zsh")
        {
            Notes = "The script calls the CLI with System.CommandLine's [suggest:POSITION] directive; try it directly with\n" +
                    "./finales \"[suggest:11]\" \"finales ten\".",
            Examples = ["source <(./finales completion bash)", "source <(./finales completion zsh)"],
        };
        command.Arguments.Add(shell);
        command.SetAction(parse =>
        {
            Console.Out.WriteLine(parse.GetValue(shell) == "zsh" ? Zsh : Bash);
            return 0;
        });
        return command;
    }
}
