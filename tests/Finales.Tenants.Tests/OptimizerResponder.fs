/// The other side of the optimizer tenant's end-to-end tests: a responder in the test process that claims density
/// and conductivity requests and answers them from a virtual electrolyte, and the limitations it offers.
module Finales.Tenants.Tests.OptimizerResponder

open System
open System.Collections.Generic
open System.Text.Json
open System.Threading
open System.Threading.Tasks
open Expecto
open Microsoft.Extensions.Time.Testing
open Finales.Client
open Finales.Core
open Finales.Hosting
open Finales.Tenants.Optimizer
open Finales.Integration.Tests.Harness
open Finales.Tenants.Tests.TenantWorld

let densityFile = "serialized_quantities/density/vibrating_tube_densimetry.json"

let private comp (key: string) (lo: float) (hi: float) =
    let c = ScienceApi.FindChemical key

    sprintf
        """{"chemical":{"SMILES":%s,"InChIKey":"%s"},"fraction":[{"min":%g,"max":%g}],"fraction_type":"molPerMol"}"""
        (JsonSerializer.Serialize c.Smiles)
        c.InChIKey
        lo
        hi

/// The responder's limitations: density for LiPF6/EC/EMC/DMC/PC, conductivity without DMC.
let responderLimitations =
    let body (withDmc: bool) =
        let comps =
            [ comp "LiPF6" 0.02 0.15; comp "EC" 0.0 0.6; comp "EMC" 0.0 0.9 ]
            @ (if withDmc then [ comp "DMC" 0.0 0.9 ] else [])
            @ [ comp "PC" 0.0 0.6 ]

        sprintf """{"formulation":[[%s]],"temperature":[{"min":253.15,"max":333.15}]}""" (String.Join(",", comps))

    sprintf
        """[{"quantity":"density","method":"vibrating_tube_densimetry","limitations":%s},{"quantity":"conductivity","method":"polynomial_interpolation","limitations":%s}]"""
        (body true)
        (body false)

/// The world of both optimizer end-to-end tests: density/vibrating_tube_densimetry registered, a responder tenant
/// offering `responderLimitations` and an optimizer tenant; returns the two tenants and the responder's session.
let densityWorld (fx: Fixture) =
    expectStatus
        (fx.Admin.Post("/admin/capabilities", Finales.Tests.RepoData.readCorpus densityFile))
        201
        "register density/vibrating_tube_densimetry"

    let responder = fx.AddTenant "responder"
    let optimizer = fx.AddTenant "optimizer"
    let rApi = Api.Login(fx.Url, responder.User, responder.Password)

    expectStatus
        (rApi.Put(sprintf "/tenants/%O/limitations" responder.Uuid, responderLimitations))
        200
        "responder limitations"

    responder, optimizer, rApi

let private fnv (s: string) =
    let mutable h = 14695981039346656037UL

    for ch in s do
        h <- (h ^^^ uint64 ch) * 1099511628211UL

    h

/// Result data computed from the virtual electrolyte (seeded noise from the request parameters: same request, same result).
let simulate (quantity: string) (parameters: JsonElement) (requestId: Guid) : string =
    let f = parameters.GetProperty "formulation"
    let t = parameters.GetProperty("temperature").GetDouble()
    let d = Dictionary<string, float>()

    for c in f.EnumerateArray() do
        d[c.GetProperty("chemical").GetProperty("InChIKey").GetString()] <- c.GetProperty("fraction").GetDouble()

    let total = Seq.sum d.Values

    for k in List.ofSeq d.Keys do
        d[k] <- d[k] / total

    let noise = SeededNoise(fnv (parameters.GetRawText()))
    let e = ScienceApi.MeasureElectrolyte(d, t, Func<float>(noise.NextStandardNormal))

    let runInfo =
        sprintf """{"formulation":%s,"internal_reference":"sim-%O"}""" (f.GetRawText()) requestId

    let meta = """{"success":true,"rating":3}"""

    if quantity = "density" then
        sprintf
            """{"run_info":%s,"density":{"values":[%.17g],"meta":%s,"temperature":%.17g},"viscosity":{"values":[%.17g],"meta":%s,"temperature":%.17g}}"""
            runInfo
            e.DensityGramsPerCubicCentimeter
            meta
            t
            e.ViscosityMillipascalSeconds
            meta
            t
    else
        sprintf
            """{"run_info":%s,"conductivity":{"values":[%.17g],"temperature":%.17g,"meta":%s}}"""
            runInfo
            e.ConductivitySiemensPerMeter
            t
            meta

/// A responder in this process: claims density and conductivity requests and posts simulated results; survives outages.
type Responder(url: string, account: Account) =
    let cts = new CancellationTokenSource()

    let client =
        new BrokerClient(
            url,
            account.User,
            account.Password,
            new Net.Http.HttpClient(Timeout = TimeSpan.FromSeconds 5.0)
        )

    let caps =
        [ "density", "vibrating_tube_densimetry"
          "conductivity", "polynomial_interpolation" ]

    let loop =
        Task.Run(fun () ->
            task {
                while not cts.IsCancellationRequested do
                    let mutable worked = false

                    for (q, m) in caps do
                        try
                            match! Broker.claim q m 30.0 client with
                            | Some r ->
                                worked <- true
                                let p = r.Parameters.GetProperty m

                                let body =
                                    sprintf
                                        """{"data":%s,"quantity":"%s","method":["%s"],"parameters":{"%s":%s},"tenant_uuid":"%O","request_uuid":"%O"}"""
                                        (simulate q p r.Uuid)
                                        q
                                        m
                                        m
                                        (p.GetRawText())
                                        account.Uuid
                                        r.Uuid

                                let! _ = client.PostResultJsonAsync body
                                ()
                            | None -> ()
                        with _ ->
                            ()

                    if not worked then
                        try
                            do! Task.Delay(100, cts.Token)
                        with _ ->
                            ()
            }
            :> Task)

    interface IDisposable with
        member _.Dispose() =
            cts.Cancel()
            loop.Wait(TimeSpan.FromSeconds 10.0) |> ignore
