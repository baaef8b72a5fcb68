/// What the campaign figures (hosts/Finales.Plotting/CampaignData.cs) read beyond the console's figures: the demo
/// report's MD points and Li RDF curves with their skip counts, and the observations the optimizer joins.
module Finales.Plotting.Tests.CampaignDataTests

open System
open Expecto
open FsCheck
open FsCheck.FSharp
open Finales.Plotting

let private entry (smiles: string) (key: string) (x: float) =
    sprintf
        """{"chemical": {"SMILES": "%s", "InChIKey": "%s"}, "fraction": %.17g, "fraction_type": "molPerMol"}"""
        smiles
        key
        x

let private ec (x: float) =
    entry "C1COC(=O)O1" "KMTRUDSVKNLOMY-UHFFFAOYSA-N" x

/// LiPF6 at `salt` and EC at the rest; EC alone when `salt` is None.
let private formulation (salt: float option) =
    match salt with
    | Some x -> sprintf "[%s, %s]" (entry "[Li+].F[P-](F)(F)(F)(F)F" "AXPLOJNSKRXQPA-UHFFFAOYSA-N" x) (ec (1.0 - x))
    | None -> sprintf "[%s]" (ec 1.0)

let private record (order: int64) (quantity: string) (method: string) (salt: float option) (data: string) =
    CampaignRecord(
        Guid.NewGuid(),
        order,
        quantity,
        method,
        Guid.Empty,
        $"""{{"parameters": {{"{method}": {{"formulation": {formulation salt}, "temperature": 298.15}}}}}}""",
        $"""{{"data": {data}}}"""
    )

let private md (salt: float option) (data: string) =
    record 1L "conductivity" "molecular_dynamics" salt data

let private rdf (salt: float option) (data: string) =
    record 1L "radial_density_function" "molacular_dynamics" salt data

let private badMd =
    [ """{"conductivity":{"values":[],"meta":{"success":false}}}"""
      """{"conductivity":{"values":["1.5"]}}"""
      """{"conductivity":{"values":1.5}}"""
      """{"conductivity":[1.5]}"""
      """[]""" ]

let private badRdf =
    [ """{"radius":[1.0,2.0],"pair_title":["Li-P"],"RDF":[[0,1,1]]}"""
      """{"radius":[1.0,2.0,3.0],"pair_title":["P-P"],"RDF":[[0,1,1]]}"""
      """{"radius":[1.0,2.0,3.0],"pair_title":["Li-P"],"RDF":[[0,"x",1]]}"""
      """{"radius":[],"pair_title":[],"RDF":[]}"""
      """{"pair_title":["Li-P"],"RDF":[[0,1,1]]}""" ]

let private goodMd =
    """{"conductivity":{"values":[1.5],"temperature":298.15},"run_info":{"analysis":{"conductivity_einstein_helfand_err_s_per_m":-0.4}}}"""

let private goodRdf =
    """{"radius":[1.0,2.0,3.0],"pair_title":["P-P","Li-P","Li-Li"],"RDF":[[0,1,1],[0,7.2,1.1],[0,0.5,1]],"cell_volume":1,"cell_formula":"Li200 P200"}"""

let private config =
    { FsCheckConfig.defaultConfig with
        maxTest = 100 }

[<Tests>]
let tests =
    testList
        "CampaignData"
        [ test "an MD conductivity gives its first value and its Einstein-Helfand error; unusable ones are counted" {
              let d = CampaignFigures.Extract [ md (Some 0.09) goodMd ]
              let p = d.Conductivity |> Seq.exactlyOne
              Expect.equal p.Source CampaignSource.Simulation "an MD point"
              Expect.floatClose Accuracy.high p.Value 1.5 "value"
              Expect.floatClose Accuracy.high p.Error.Value 0.4 "error, as a magnitude"
              Expect.floatClose Accuracy.high p.LiPF6 0.09 "salt"
              Expect.floatClose Accuracy.high p.ResultTemperature.Value 298.15 "the result's temperature"
              Expect.floatClose Accuracy.high p.Temperature.Value 298.15 "the request's temperature"
              Expect.equal d.SimulationSkipped 0 "nothing left out"

              let noError =
                  CampaignFigures.Extract [ md (Some 0.09) """{"conductivity":{"values":[1.5]}}""" ]

              Expect.isFalse (Seq.exactlyOne noError.Conductivity).Error.HasValue "no error given, no error bar"

              for bad in badMd do
                  let d = CampaignFigures.Extract [ md (Some 0.09) bad ]
                  Expect.isEmpty d.Conductivity bad
                  Expect.equal d.SimulationSkipped 1 $"counted as left out: {bad}"
                  Expect.equal d.Unreadable 0 $"not unreadable: {bad}"

              let noSalt = CampaignFigures.Extract [ md None goodMd ]
              Expect.isEmpty noSalt.Conductivity "no LiPF6 fraction, no point"
              Expect.equal noSalt.SimulationSkipped 1 "and it is counted"
          }

          test "an RDF result gives its Li pair's curve; unusable ones are counted" {
              let d = CampaignFigures.Extract [ rdf (Some 0.09) goodRdf ]
              let c = CampaignFigures.LiCurves d |> Seq.exactlyOne
              Expect.equal c.Pair "Li-P" "Li and the anion"
              Expect.equal (List.ofSeq c.G) [ 0.0; 7.2; 1.1 ] "its g(r)"
              Expect.floatClose Accuracy.high c.LiPF6.Value 0.09 "at its salt fraction"
              Expect.equal d.Rdfs.Count 3 "the console draws every pair"
              Expect.equal d.RdfSkipped 0 "nothing left out"

              let carbonyl =
                  CampaignFigures.Extract [ rdf (Some 0.09) (goodRdf.Replace("\"P-P\"", "\"Li-O\"")) ]

              Expect.equal (CampaignFigures.LiCurves carbonyl |> Seq.exactlyOne).Pair "Li-O" "Li-O before Li-P"

              for bad in badRdf @ [ goodRdf.Replace("}", ""","meta":{"success":false}}""") ] do
                  let d = CampaignFigures.Extract [ rdf (Some 0.09) bad ]
                  Expect.isEmpty (CampaignFigures.LiCurves d) bad
                  Expect.equal d.RdfSkipped 1 $"counted as left out: {bad}"

              let noSalt = CampaignFigures.Extract [ rdf None goodRdf ]
              Expect.isEmpty (CampaignFigures.LiCurves noSalt) "no LiPF6 fraction, no Li curve"
              Expect.equal noSalt.RdfSkipped 1 "and it is counted"
          }

          testPropertyWithConfig config "every MD and RDF result is drawn or counted as left out, in result order"
          <| Prop.forAll
              (Arb.fromGen (Gen.listOf (Gen.zip (Gen.elements [ true; false ]) (Gen.choose (0, 5)))))
              (fun picks ->
                  // (MD?, 0 = a usable body, 1..5 = one of the unusable ones)
                  let records =
                      picks
                      |> List.mapi (fun i (isMd, k) ->
                          let salt = Some(0.01 * float (i + 1))

                          if isMd then
                              md salt (if k = 0 then goodMd else badMd[k - 1])
                          else
                              rdf salt (if k = 0 then goodRdf else badRdf[k - 1]))

                  let d = CampaignFigures.Extract records
                  let mds = picks |> List.filter fst
                  let rdfs = picks |> List.filter (fst >> not)

                  Expect.equal
                      (d.Conductivity.Count + d.SimulationSkipped)
                      mds.Length
                      "each MD conductivity is a point or left out"

                  Expect.equal
                      d.SimulationSkipped
                      (mds |> List.filter (fun (_, k) -> k > 0) |> List.length)
                      "the unusable ones are left out"

                  let curves = CampaignFigures.LiCurves d
                  Expect.equal (curves.Count + d.RdfSkipped) rdfs.Length "each RDF is a Li curve or left out"

                  Expect.equal
                      d.RdfSkipped
                      (rdfs |> List.filter (fun (_, k) -> k > 0) |> List.length)
                      "the unusable ones are left out"

                  let order (requests: Guid seq) =
                      requests
                      |> Seq.map (fun r -> records |> List.findIndex (fun x -> x.Request = r))
                      |> List.ofSeq

                  let inOrder xs =
                      Expect.equal xs (List.sort xs) "result order"

                  inOrder (order (d.Conductivity |> Seq.map (fun c -> c.Request)))
                  inOrder (order (curves |> Seq.map (fun c -> c.Request))))

          test "observations: density and viscosity of a lab measurement, conductivity by source, keyed by SMILES" {
              let density =
                  record
                      1L
                      "density"
                      "vibrating_tube_densimetry"
                      (Some 0.1)
                      """{"density":{"values":[1.2,1.4],"meta":{"success":true,"rating":3}},"viscosity":{"values":[],"meta":{"success":true}}}"""

              let model =
                  record
                      2L
                      "conductivity"
                      "polynomial_interpolation"
                      (Some 0.1)
                      """{"conductivity":{"values":[0.8],"meta":{"success":false}}}"""

              let d = CampaignFigures.Extract [ density; model; rdf (Some 0.1) goodRdf ]

              let seen =
                  d.Observations
                  |> Seq.map (fun o ->
                      o.Quantity,
                      o.Source,
                      o.Value |> Option.ofNullable |> Option.map (fun v -> Math.Round(v, 9)),
                      o.Success)
                  |> List.ofSeq

              Expect.equal
                  seen
                  [ "density", CampaignSource.Lab, Some 1.3, true
                    "viscosity", CampaignSource.Lab, None, false
                    "conductivity", CampaignSource.Model, Some 0.8, false ]
                  "mean values; success needs meta.success and a value; RDFs observe nothing"

              let o = d.Observations[0]
              Expect.equal o.Rating (Nullable 3.0) "meta.rating"
              Expect.floatClose Accuracy.high o.Temperature.Value 298.15 "the request's temperature"

              Expect.equal
                  (o.FormulationBySmiles |> Seq.map (fun kv -> kv.Key) |> Seq.sort |> List.ofSeq)
                  [ "C1COC(=O)O1"; "[Li+].F[P-](F)(F)(F)(F)F" ]
                  "keyed by the core's SMILES"

              Expect.floatClose Accuracy.high o.FormulationBySmiles["[Li+].F[P-](F)(F)(F)(F)F"] 0.1 "LiPF6"
          }
          test "a conductivity source and its method map to each other" {
              for source in Enum.GetValues<CampaignSource>() do
                  Expect.equal
                      (CampaignFigures.SourceOf(CampaignFigures.MethodOf source))
                      (Nullable source)
                      (sprintf "%A round-trips" source)

              Expect.equal (CampaignFigures.MethodOf CampaignSource.Simulation) "molecular_dynamics" "MD's method"
          } ]
