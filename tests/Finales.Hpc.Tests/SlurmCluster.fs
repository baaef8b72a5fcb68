/// A private single-node Slurm for tests (shared by the Hpc and tenant test suites: link this file).
namespace Finales.TestSupport

open System
open System.Diagnostics
open System.IO
open System.Net
open System.Net.Sockets
open System.Text
open System.Threading

/// The output of a finished client command.
type SlurmRun =
    { Code: int
      Stdout: string
      Stderr: string }

/// <summary>
/// A private single-node Slurm cluster in a temp dir: munged with its own key and socket, slurmctld -D and
/// slurmd -D as child processes, SlurmUser=root, proctrack/linuxproc, task/none, no accounting, a unique port pair,
/// state, spool and logs in the temp dir, 4 CPUs on one node (config_overrides, so 4 one-CPU jobs run at once).
/// Needs root and the Debian packages slurm-wlm + munge: without them <see cref="Start"/> fails with a message
/// saying so (no silent skip). <see cref="Shared"/> is one cluster per test process, with SLURM_CONF set in the
/// process environment so every client (sbatch, squeue, ...) the code under test runs talks to it.
/// </summary>
type SlurmCluster
    private (dir: string, conf: string, nodeName: string, daemons: (string * Process * StringBuilder) list) =
    static let searchPath =
        let path =
            Environment.GetEnvironmentVariable "PATH"
            |> Option.ofObj
            |> Option.defaultValue ""

        [ yield! path.Split(':', StringSplitOptions.RemoveEmptyEntries)
          "/usr/sbin"
          "/sbin"
          "/usr/bin" ]

    static let find (tool: string) =
        searchPath
        |> List.map (fun d -> Path.Combine(d, tool))
        |> List.tryFind File.Exists

    static let freePort () =
        let l = new TcpListener(IPAddress.Loopback, 0)
        l.Start()
        let port = (l.LocalEndpoint :?> IPEndPoint).Port
        l.Stop()
        port

    static let run (conf: string) (tool: string) (args: string list) =
        let psi =
            ProcessStartInfo(tool, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false)

        args |> List.iter psi.ArgumentList.Add
        psi.Environment["SLURM_CONF"] <- conf
        use p = Process.Start psi
        let out = p.StandardOutput.ReadToEndAsync()
        let err = p.StandardError.ReadToEndAsync()
        p.WaitForExit()

        { Code = p.ExitCode
          Stdout = out.Result
          Stderr = err.Result }

    static let startDaemon (name: string) (exe: string) (args: string list) (conf: string) =
        let psi =
            ProcessStartInfo(exe, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false)

        args |> List.iter psi.ArgumentList.Add
        psi.Environment["SLURM_CONF"] <- conf
        let log = StringBuilder()
        let p = Process.Start psi

        let append (e: DataReceivedEventArgs) =
            if not (isNull e.Data) then
                lock log (fun () -> log.AppendLine e.Data |> ignore)

        p.OutputDataReceived.Add append
        p.ErrorDataReceived.Add append
        p.BeginOutputReadLine()
        p.BeginErrorReadLine()
        name, p, log

    static let tail (n: int) (text: string) =
        let lines = text.Split('\n')
        String.Join("\n", lines |> Array.skip (max 0 (lines.Length - n)))

    static let shared =
        lazy
            (let c = SlurmCluster.Start()
             Environment.SetEnvironmentVariable("SLURM_CONF", c.ConfPath)
             AppDomain.CurrentDomain.ProcessExit.Add(fun _ -> (c :> IDisposable).Dispose())
             c)

    let mutable disposed = false

    /// The temp dir holding the cluster's key, config, state and logs.
    member _.Dir = dir
    /// The slurm.conf: the value of SLURM_CONF for clients.
    member _.ConfPath = conf
    member _.NodeName = nodeName

    /// Runs a Slurm client (sbatch, squeue, scontrol, scancel, sinfo) against this cluster.
    member _.Run(tool: string, [<ParamArray>] args: string[]) = run conf tool (List.ofArray args)

    /// The daemons' recent output and log files, for a failure message.
    member _.Diagnostics() =
        let logs =
            [ for f in [ "slurmctld.log"; "slurmd.log"; "munged.log" ] do
                  let p = Path.Combine(dir, "log", f)

                  if File.Exists p then
                      sprintf "--- %s ---\n%s" f (tail 15 (File.ReadAllText p)) ]

        let outs =
            [ for (name, _, log) in daemons ->
                  sprintf "--- %s output ---\n%s" name (tail 10 (lock log (fun () -> log.ToString()))) ]

        String.Join("\n", logs @ outs)

    /// One cluster per test process, started on first use; SLURM_CONF points at it from then on.
    static member Shared: SlurmCluster = shared.Force()

    /// Starts a new cluster and waits until its node is idle (at most 60 s).
    static member Start() : SlurmCluster =
        let missing =
            [ "munged"
              "mungekey"
              "slurmctld"
              "slurmd"
              "sbatch"
              "squeue"
              "scontrol"
              "scancel"
              "sinfo" ]
            |> List.filter (find >> Option.isNone)

        if Environment.UserName <> "root" || not missing.IsEmpty then
            failwithf
                "the Slurm tests start a private cluster and need root plus the Debian packages slurm-wlm and munge (apt-get install -y slurm-wlm munge); user: %s, missing: %s"
                Environment.UserName
                (if missing.IsEmpty then
                     "nothing"
                 else
                     String.Join(", ", missing))

        let exe t = (find t).Value

        let dir =
            Path.Combine(Path.GetTempPath(), "finales-slurm-" + Guid.NewGuid().ToString("N").Substring(0, 8))

        for sub in [ "munge"; "state"; "spool"; "log" ] do
            Directory.CreateDirectory(Path.Combine(dir, sub)) |> ignore

        let key = Path.Combine(dir, "munge", "munge.key")
        let socket = Path.Combine(dir, "munge", "munge.socket")
        let keyRun = run "" (exe "mungekey") [ "--create"; "--keyfile=" + key ]

        if keyRun.Code <> 0 then
            failwithf "mungekey failed: %s" keyRun.Stderr

        let conf = Path.Combine(dir, "slurm.conf")
        let host = Dns.GetHostName().Split('.')[0]
        let ctldPort = freePort ()

        let dPort =
            Seq.initInfinite (fun _ -> freePort ())
            |> Seq.find (fun port -> port <> ctldPort)

        let p (sub: string) = Path.Combine(dir, sub)

        let text =
            [ "ClusterName=finalestest"
              sprintf "SlurmctldHost=%s(127.0.0.1)" host
              sprintf "SlurmctldPort=%d" ctldPort
              sprintf "SlurmdPort=%d" dPort
              "SlurmUser=root"
              "SlurmdUser=root"
              "AuthType=auth/munge"
              "CredType=cred/munge"
              sprintf "AuthInfo=socket=%s" socket
              "ProctrackType=proctrack/linuxproc"
              "TaskPlugin=task/none"
              "JobAcctGatherType=jobacct_gather/none"
              "AccountingStorageType=accounting_storage/none"
              "SelectType=select/cons_tres"
              "SelectTypeParameters=CR_CPU"
              "SchedulerType=sched/backfill"
              "MpiDefault=none"
              sprintf "StateSaveLocation=%s" (p "state")
              sprintf "SlurmdSpoolDir=%s" (p "spool")
              sprintf "SlurmctldPidFile=%s" (p "slurmctld.pid")
              sprintf "SlurmdPidFile=%s" (p "slurmd.pid")
              sprintf "SlurmctldLogFile=%s" (p "log/slurmctld.log")
              sprintf "SlurmdLogFile=%s" (p "log/slurmd.log")
              "SlurmdParameters=config_overrides"
              "ReturnToService=2"
              "KillWait=5"
              "MinJobAge=600"
              "InactiveLimit=0"
              sprintf "NodeName=%s NodeAddr=127.0.0.1 CPUs=4 RealMemory=2000 State=UNKNOWN" host
              sprintf "PartitionName=debug Nodes=%s Default=YES MaxTime=INFINITE State=UP" host ]

        File.WriteAllText(conf, String.Join("\n", text) + "\n")

        let munged =
            startDaemon
                "munged"
                (exe "munged")
                [ "--foreground"
                  "--force"
                  "--key-file=" + key
                  "--socket=" + socket
                  "--pid-file=" + p "munge/munged.pid"
                  "--seed-file=" + p "munge/munged.seed"
                  "--log-file=" + p "log/munged.log" ]
                conf

        let deadline = DateTime.UtcNow.AddSeconds 60.0
        let daemons = ref [ munged ]

        let cluster () =
            new SlurmCluster(dir, conf, host, daemons.Value)

        let fail (what: string) =
            let c = cluster ()
            let diagnostics = c.Diagnostics()
            (c :> IDisposable).Dispose()
            failwithf "private Slurm: %s\n%s" what diagnostics

        while not (File.Exists socket) && DateTime.UtcNow < deadline do
            Thread.Sleep 100

        if not (File.Exists socket) then
            fail "munged did not create its socket within 60 s"

        daemons.Value <-
            daemons.Value
            @ [ startDaemon "slurmctld" (exe "slurmctld") [ "-D"; "-f"; conf ] conf ]

        daemons.Value <-
            daemons.Value
            @ [ startDaemon "slurmd" (exe "slurmd") [ "-D"; "-f"; conf; "-N"; host ] conf ]

        let idle () =
            let r = run conf (exe "sinfo") [ "-h"; "-N"; "-o"; "%T" ]
            r.Code = 0 && r.Stdout.Trim() = "idle"

        while not (idle ()) && DateTime.UtcNow < deadline do
            daemons.Value
            |> List.tryFind (fun (_, proc, _) -> proc.HasExited)
            |> Option.iter (fun (name, _, _) -> fail (sprintf "%s exited during start-up" name))

            Thread.Sleep 250

        if not (idle ()) then
            fail "the node did not become idle within 60 s"

        cluster ()

    interface IDisposable with
        member this.Dispose() =
            if not disposed then
                disposed <- true

                if daemons.Length = 3 then
                    try
                        run conf "scancel" [ "--user=root" ] |> ignore
                        Thread.Sleep 500
                    with _ ->
                        ()

                for (_, proc, _) in List.rev daemons do
                    try
                        if not proc.HasExited then
                            proc.Kill true
                            proc.WaitForExit 10000 |> ignore
                    with _ ->
                        ()

                try
                    Directory.Delete(dir, true)
                with _ ->
                    ()
