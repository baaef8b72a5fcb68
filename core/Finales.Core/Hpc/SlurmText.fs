namespace Finales.Core.Hpc

open System
open System.Globalization
open System.IO
open System.Text.RegularExpressions

/// What the Slurm executor needs from its configuration to write a batch script.
type SlurmOptions =
    {
        /// -p; None = the cluster's default partition.
        Partition: string option
        /// -A; None = the user's default account.
        Account: string option
        /// Environment modules loaded before the job script (`module load X`).
        Modules: string list
        /// Further `#SBATCH` options verbatim, e.g. `--mem=4G` or `--qos=short`.
        ExtraSbatchArgs: string list
    }

/// The `#SBATCH` header of a batch script, in the order it is written.
type BatchDirectives =
    { JobName: string
      TimeMinutes: int64
      Cpus: int
      Output: string
      WorkDirectory: string
      Partition: string option
      Account: string option
      Extra: string list }

/// What `scontrol show job` or `sacct` says about a job: the Slurm state name, Reason=, ExitCode=code:signal.
type SlurmJob =
    { SlurmState: string
      Reason: string option
      ExitCode: int option
      Signal: int option }

/// A job's state and the reason to report with it, read from a `SlurmJob`.
type SlurmStatus =
    { State: JobState
      Reason: string option }

/// The pure half of the Slurm executor: the batch script it writes and the readings of sbatch, squeue, scontrol and
/// sacct output (tested on captured real outputs).
[<RequireQualifiedAccess>]
module SlurmText =

    /// The file the batch script writes the job script's exit code to.
    [<Literal>]
    let ExitCodeFile = "finales-exit-code"

    /// The job script of the current attempt, written next to the batch script.
    [<Literal>]
    let JobScriptFile = "finales-job.sh"

    let private lines (text: string) =
        (if isNull text then "" else text)
            .Split('\n', StringSplitOptions.RemoveEmptyEntries ||| StringSplitOptions.TrimEntries)

    /// The `--time` in whole minutes, rounded up, at least 1 (Slurm's granularity).
    let timeLimitMinutes (limit: TimeSpan) =
        max 1L (int64 (Math.Ceiling limit.TotalMinutes))

    /// The `--time` value.
    let timeLimit (limit: TimeSpan) =
        (timeLimitMinutes limit).ToString(CultureInfo.InvariantCulture)

    let private present (value: string option) =
        value |> Option.filter (String.IsNullOrWhiteSpace >> not)

    /// The header of a job named `name` (the request id) working in `workDirectory`.
    let directives (name: string) (workDirectory: string) (limit: TimeSpan) (cpus: int) (options: SlurmOptions) =
        { JobName = name
          TimeMinutes = timeLimitMinutes limit
          Cpus = max 1 cpus
          Output = Path.Combine(workDirectory, "slurm-%j.out")
          WorkDirectory = workDirectory
          Partition = present options.Partition
          Account = present options.Account
          Extra = options.ExtraSbatchArgs }

    /// The `#SBATCH` lines of a header.
    let renderDirectives (d: BatchDirectives) =
        [ yield "#SBATCH --job-name=" + d.JobName
          yield "#SBATCH --time=" + d.TimeMinutes.ToString(CultureInfo.InvariantCulture)
          yield "#SBATCH --cpus-per-task=" + d.Cpus.ToString(CultureInfo.InvariantCulture)
          yield "#SBATCH --ntasks=1"
          yield "#SBATCH --output=" + d.Output
          yield "#SBATCH --chdir=" + d.WorkDirectory
          match d.Partition with
          | Some p -> yield "#SBATCH --partition=" + p
          | None -> ()
          match d.Account with
          | Some a -> yield "#SBATCH --account=" + a
          | None -> ()
          for extra in d.Extra -> "#SBATCH " + extra ]

    let private known =
        [ "--job-name="
          "--time="
          "--cpus-per-task="
          "--ntasks="
          "--output="
          "--chdir="
          "--partition="
          "--account=" ]

    /// Reads the `#SBATCH` header of a batch script back (the options sbatch reads, before the first command);
    /// options other than the ones `renderDirectives` writes are `Extra`, in order.
    let parseDirectives (script: string) : Result<BatchDirectives, string> =
        let header =
            (if isNull script then "" else script).Split('\n')
            |> Array.map (fun l -> l.TrimEnd('\r'))
            |> Array.takeWhile (fun l -> l.Length = 0 || l.StartsWith("#", StringComparison.Ordinal))
            |> Array.filter (fun l -> l.StartsWith("#SBATCH ", StringComparison.Ordinal))
            |> Array.map (fun l -> l.Substring("#SBATCH ".Length))
            |> List.ofArray

        let value (key: string) =
            header
            |> List.tryFind (fun o -> o.StartsWith(key, StringComparison.Ordinal))
            |> Option.map (fun o -> o.Substring key.Length)

        let required key =
            match value key with
            | Some v -> Ok v
            | None -> Error $"the batch script has no #SBATCH {key}"

        let number key (v: string) =
            match Int64.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture) with
            | true, n -> Ok n
            | _ -> Error $"#SBATCH {key}{v} is not a whole number"

        let extra =
            header
            |> List.filter (fun o -> known |> List.exists (fun k -> o.StartsWith(k, StringComparison.Ordinal)) |> not)

        match required "--job-name=", required "--time=", required "--cpus-per-task=" with
        | Error e, _, _
        | _, Error e, _
        | _, _, Error e -> Error e
        | Ok name, Ok time, Ok cpus ->
            match number "--time=" time, number "--cpus-per-task=" cpus, required "--output=", required "--chdir=" with
            | Error e, _, _, _
            | _, Error e, _, _
            | _, _, Error e, _
            | _, _, _, Error e -> Error e
            | Ok minutes, Ok _, _, _ when minutes < 1L -> Error $"#SBATCH --time={time} is less than a minute"
            | Ok _, Ok n, _, _ when n < 1L || n > int64 Int32.MaxValue ->
                Error $"#SBATCH --cpus-per-task={cpus} is out of range"
            | Ok minutes, Ok n, Ok output, Ok dir ->
                Ok
                    { JobName = name
                      TimeMinutes = minutes
                      Cpus = int n
                      Output = output
                      WorkDirectory = dir
                      Partition = value "--partition="
                      Account = value "--account="
                      Extra = extra }

    let private quote (s: string) =
        "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'"

    /// The batch script: #SBATCH header (`directives`), module loads, the job script (`JobScriptFile`, written next
    /// to it), then its exit code to `ExitCodeFile` and as the batch script's own exit code.
    let batchScript (name: string) (workDirectory: string) (limit: TimeSpan) (cpus: int) (options: SlurmOptions) =
        [ yield "#!/bin/bash"
          yield! renderDirectives (directives name workDirectory limit cpus options)
          yield "# Written by the Finales Slurm executor."
          for m in options.Modules -> "module load " + m
          yield "cd " + quote workDirectory
          yield "rm -f " + ExitCodeFile
          yield "bash " + JobScriptFile
          yield "code=$?"
          yield "echo $code > " + ExitCodeFile
          // Slurm's own state then agrees with the job: FAILED with ExitCode=code:0 when the job script failed.
          yield "exit $code" ]
        |> List.map (fun l -> l + "\n")
        |> String.concat ""

    /// `sbatch --parsable` prints `JOBID` or `JOBID;CLUSTER`.
    let parseSbatch (stdout: string) : Result<string, string> =
        let text = if isNull stdout then "" else stdout

        let line =
            text.Trim().Split('\n', StringSplitOptions.RemoveEmptyEntries)
            |> Array.tryLast
            |> Option.map (fun l -> l.Trim())
            |> Option.defaultValue ""

        let id = line.Split(';').[0]

        if id.Length > 0 && id |> Seq.forall Char.IsAsciiDigit then
            Ok id
        else
            Error $"sbatch --parsable printed '{text.Trim()}', not a job id"

    /// The newest (highest) job id of `squeue -o "%i %Z"` lines (id, work directory) whose directory is
    /// `workDirectory`; None if none.
    let findByWorkDirectory (stdout: string) (workDirectory: string) : string option =
        let wanted = workDirectory.TrimEnd('/')

        let ids =
            lines stdout
            |> Array.choose (fun line ->
                let space = line.IndexOf ' '

                if space > 0 && line.Substring(space + 1).Trim() = wanted then
                    match
                        Int64.TryParse(line.Substring(0, space), NumberStyles.Integer, CultureInfo.InvariantCulture)
                    with
                    | true, id -> Some id
                    | _ -> None
                else
                    None)

        if ids.Length = 0 then
            None
        else
            Some((Array.max ids).ToString(CultureInfo.InvariantCulture))

    /// The job state from `squeue -h -j ID -o %T` (one line, e.g. `RUNNING`); None when the output is empty (the
    /// job left squeue's memory).
    let parseSqueueState (stdout: string) : string option = lines stdout |> Array.tryHead

    /// A Slurm state name (squeue %T, scontrol JobState=, sacct State such as "CANCELLED by 0") mapped to a
    /// `JobState`; None for a name this code does not know.
    let mapState (slurmState: string) : JobState option =
        let name =
            (if isNull slurmState then "" else slurmState).Trim().Split(' ').[0].TrimEnd('+').ToUpperInvariant()

        match name with
        | "PENDING"
        | "CONFIGURING"
        | "REQUEUED"
        | "REQUEUE_HOLD"
        | "REQUEUE_FED"
        | "RESV_DEL_HOLD" -> Some Pending
        | "RUNNING"
        | "COMPLETING"
        | "SUSPENDED"
        | "STOPPED"
        | "SIGNALING"
        | "STAGE_OUT"
        | "RESIZING" -> Some Running
        | "COMPLETED" -> Some Completed
        | "FAILED"
        | "BOOT_FAIL"
        | "DEADLINE"
        | "SPECIAL_EXIT"
        | "REVOKED" -> Some Failed
        | "CANCELLED" -> Some Cancelled
        | "TIMEOUT" -> Some Timeout
        | "NODE_FAIL" -> Some NodeFail
        | "PREEMPTED" -> Some Preempted
        | "OUT_OF_MEMORY" -> Some OutOfMemory
        | _ -> None

    /// Every Slurm state name `mapState` knows (Slurm 22.05's job states).
    let knownStateNames =
        [ "PENDING"
          "CONFIGURING"
          "REQUEUED"
          "REQUEUE_HOLD"
          "REQUEUE_FED"
          "RESV_DEL_HOLD"
          "RUNNING"
          "COMPLETING"
          "SUSPENDED"
          "STOPPED"
          "SIGNALING"
          "STAGE_OUT"
          "RESIZING"
          "COMPLETED"
          "FAILED"
          "BOOT_FAIL"
          "DEADLINE"
          "SPECIAL_EXIT"
          "REVOKED"
          "CANCELLED"
          "TIMEOUT"
          "NODE_FAIL"
          "PREEMPTED"
          "OUT_OF_MEMORY" ]

    let private jobStateField =
        Regex(@"(?:^|\s)JobState=(\S+)", RegexOptions.CultureInvariant)

    let private reasonField =
        Regex(@"(?:^|\s)Reason=(\S+)", RegexOptions.CultureInvariant)

    let private exitCodeField =
        Regex(@"(?:^|\s)ExitCode=(\d+):(\d+)", RegexOptions.CultureInvariant)

    /// Reads `scontrol show job` output; an error when it holds no JobState= (e.g. "Invalid job id specified").
    let parseScontrol (stdout: string) : Result<SlurmJob, string> =
        let text = if isNull stdout then "" else stdout
        let state = jobStateField.Match text

        if not state.Success then
            Error $"scontrol printed no JobState=: '{text.Trim()}'"
        else
            let reason = reasonField.Match text
            let exit = exitCodeField.Match text

            let reasonValue =
                if
                    reason.Success
                    && reason.Groups[1].Value <> "None"
                    && reason.Groups[1].Value <> "(null)"
                then
                    Some reason.Groups[1].Value
                else
                    None

            let group (i: int) =
                if exit.Success then
                    Some(Int32.Parse(exit.Groups[i].Value, CultureInfo.InvariantCulture))
                else
                    None

            Ok
                { SlurmState = state.Groups[1].Value
                  Reason = reasonValue
                  ExitCode = group 1
                  Signal = group 2 }

    /// Reads `sacct -j ID -X -n -P -o State,ExitCode,Reason` (e.g. `CANCELLED by 0|0:15|None`); an error when empty.
    let parseSacct (stdout: string) : Result<SlurmJob, string> =
        let parts =
            lines stdout
            |> Array.tryHead
            |> Option.map (fun l -> l.Split('|'))
            |> Option.defaultValue [||]

        if parts.Length < 2 || parts[0].Length = 0 then
            Error "sacct printed no State|ExitCode row"
        else
            let codes = parts[1].Split(':')

            let int (i: int) =
                if codes.Length > i then
                    match Int32.TryParse(codes[i], NumberStyles.Integer, CultureInfo.InvariantCulture) with
                    | true, v -> Some v
                    | _ -> None
                else
                    None

            Ok
                { SlurmState = parts[0]
                  Reason =
                    if parts.Length > 2 && parts[2] <> "" && parts[2] <> "None" then
                        Some parts[2]
                    else
                        None
                  ExitCode = int 0
                  Signal = int 1 }

    /// The state and reason of a parsed scontrol/sacct record; an unknown state name is a failure that names it.
    let toStatus (job: SlurmJob) : SlurmStatus =
        let state, reason =
            match mapState job.SlurmState with
            | Some s -> s, job.Reason
            | None ->
                let also =
                    match job.Reason with
                    | Some r -> $" ({r})"
                    | None -> ""

                Failed, Some($"unknown Slurm state {job.SlurmState}" + also)

        let detail =
            match job.Signal with
            | Some s when s > 0 -> $"{job.SlurmState} (signal {s})"
            | _ -> job.SlurmState

        { State = state
          Reason =
            match state, reason with
            | Completed, None -> None
            | _, None -> Some detail
            | _, Some r -> Some(detail + ", Reason=" + r) }
