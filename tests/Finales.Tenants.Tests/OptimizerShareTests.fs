/// The optimizer tenant requesting one capability for a share of its points: the options check the share, and a run
/// against a broker process posts it exactly at the points the core's RequestShare picks, under the queue cap.
module Finales.Tenants.Tests.OptimizerShareTests

open System
open System.Text.RegularExpressions
open System.Threading
open Expecto
open Finales.Optimizer
open Finales.Tenants.Optimizer
open Finales.Integration.Tests.Harness
open Finales.Tenants.Tests.TenantWorld
open Finales.Tenants.Tests.OptimizerResponder

let private conductivity share =
    RequestTarget(Quantity = "conductivity", Method = "polynomial_interpolation", Share = share)

let private density () =
    RequestTarget(Quantity = "density", Method = "vibrating_tube_densimetry")

let private options (share: float) (seed: int) (maxIterations: int) =
    let o =
        OptimizerOptions(
            Preset = OptimizerOptions.PresetConductivityViscosityDensity,
            BatchSize = 2,
            // 2 points carry 2 density requests and at most ceil(2 x 0.5) = 1 conductivity request
            QueueCap = 3,
            PollIntervalSeconds = 0.2,
            Seed = seed,
            MaxIterations = maxIterations,
            Candidates = 300
        )

    o.Requests.Add(conductivity share)
    o.Requests.Add(density ())
    o

let unit =
    testList
        "OptimizerTenant share (options)"
        [ test "a share outside (0, 1] is refused naming the key and the value; at least one capability keeps share 1" {
              for bad in [ 0.0; -0.5; 1.5; nan ] do
                  let text = String.Join("; ", (options bad 1 1).Problems())
                  Expect.stringContains text "Optimizer:Requests:0:Share: share is" (sprintf "share %g named" bad)
                  Expect.stringContains text "it must lie in (0, 1]" "the range is stated"

              Expect.isEmpty ((options 0.5 1 1).Problems()) "a share of 0.5 with density at every point is valid"
              let allShared = options 0.5 1 1
              allShared.Requests[1].Share <- 0.5

              Expect.stringContains
                  (String.Join("; ", allShared.Problems()))
                  "every Share is below 1"
                  "some capability must be requested for every point"

              Expect.equal
                  ((conductivity 0.5).Describe())
                  "conductivity/polynomial_interpolation (share 0.5)"
                  "described"

              Expect.equal ((density ()).Describe()) "density/vibrating_tube_densimetry" "share 1 is not mentioned"
              Expect.equal (density ()).Share 1.0 "the default share is every point"
          } ]

let private posted =
    Regex(@"Iteration \d+: posted ([0-9a-f-]{36}) (\S+) for (.+?): predicted", RegexOptions.Compiled)

let endToEnd =
    testSequenced
    <| testList
        "OptimizerTenant share (broker)"
        [ test
              "conductivity at half of the points: exactly where RequestShare picks them, density everywhere, the queue cap held, incomplete points never complete" {
              use fx = create "optimizer-share"

              let responder, optimizer, rApi = densityWorld fx

              let seed = 11
              let log = ListLogger()
              let progress = ResizeArray<OptimizerProgress>()

              let tenantOptions =
                  Finales.Hosting.TenantOptions(
                      BrokerUrl = fx.Url,
                      Username = optimizer.User,
                      Password = optimizer.Password,
                      TenantUuid = optimizer.Uuid,
                      InitialBackoffSeconds = 0.2,
                      MaxBackoffSeconds = 1.0,
                      HttpTimeoutSeconds = 5.0,
                      Seed = 7
                  )

              use tenant =
                  new OptimizerTenant(tenantOptions, options 0.5 seed 6, log, null, null, null)

              tenant.add_ProgressChanged (Action<OptimizerProgress>(fun p -> lock progress (fun () -> progress.Add p)))
              use _responder = new Responder(fx.Url, responder)
              use cts = new CancellationTokenSource(TimeSpan.FromSeconds 120.0)
              let run = tenant.RunAsync(cts.Token)

              if not (run.Wait(TimeSpan.FromSeconds 120.0)) then
                  failtestf "6 iterations not done in time:\n%s" log.Text

              Expect.equal tenant.Progress.State "done" (sprintf "the tenant stops after MaxIterations:\n%s" log.Text)

              // the points in the order the tenant posted them, with the capabilities it requested for each
              let lines =
                  log.Lines
                  |> List.choose (fun l ->
                      let m = posted.Match l

                      if m.Success then
                          Some(m.Groups[3].Value, m.Groups[2].Value)
                      else
                          None)

              let points = lines |> List.map fst |> List.distinct

              let capabilities (point: string) =
                  lines |> List.filter (fun (p, _) -> p = point) |> List.map snd |> set

              Expect.isGreaterThanOrEqual points.Length 6 "at least one point per iteration"
              let phase = RequestShare.phase seed 0

              let half =
                  match RequestShare.create 0.5 with
                  | Ok s -> s
                  | Error e -> failtest e

              points
              |> List.iteri (fun j point ->
                  let caps = capabilities point

                  Expect.isTrue
                      (caps.Contains "density/vibrating_tube_densimetry")
                      (sprintf "point %d (%s) has density" j point)

                  Expect.equal
                      (caps.Contains "conductivity/polynomial_interpolation")
                      (RequestShare.chosen half phase j)
                      (sprintf "point %d (%s): conductivity exactly when RequestShare picks it" j point))

              let withConductivity =
                  points
                  |> List.filter (fun p -> (capabilities p).Contains "conductivity/polynomial_interpolation")
                  |> List.length

              Expect.isTrue
                  (withConductivity = points.Length / 2
                   || withConductivity = (points.Length + 1) / 2)
                  (sprintf "%d of %d points have conductivity: half, rounded either way" withConductivity points.Length)

              let maxOpen =
                  lock progress (fun () -> progress |> Seq.map (fun p -> p.OpenRequests) |> Seq.max)

              Expect.isLessThanOrEqual maxOpen 3 "the queue cap held at every observation"

              waitUntil 30.0 "the responder answers everything" (fun () ->
                  let snap = tenant.ReadAsync(CancellationToken.None).Result

                  snap.Requests |> Seq.forall (fun r -> r.Status = "resolved"))

              let plan = tenant.Planner.Decide(tenant.ReadAsync(CancellationToken.None).Result)

              Expect.equal plan.CompletePoints withConductivity "only the points with conductivity are complete"

              Expect.equal
                  (plan.Joined
                   |> Seq.filter (fun p -> not p.Complete && not p.Failed)
                   |> Seq.length)
                  (points.Length - withConductivity)
                  "the others are incomplete (conditioned on like pending requests)"
          } ]
