module Finales.Md.Tests.DumpTests

open System
open Expecto
open FsCheck
open Finales.Md.Analysis

let private frameOf (seed: int) (atoms: int) : Frame =
    let rng = Random seed
    let inv = Globalization.CultureInfo.InvariantCulture
    // Values a 6-decimal dump writes exactly: the parse of their own 6-decimal text.
    let pos () =
        Double.Parse((rng.NextDouble() * 30.0 - 5.0).ToString("F6", inv), inv)

    { Timestep = int64 (rng.Next 1000000)
      Box =
        { Lo = [| -1.5; 0.0; 2.25 |]
          Hi = [| 28.5; 31.0; 40.0 |] }
      Ids = Array.init atoms (fun i -> 3 * i + 1)
      Types = Array.init atoms (fun _ -> rng.Next(1, 6))
      Mols = Some(Array.init atoms (fun i -> i / 3 + 1))
      Charges = Some(Array.init atoms (fun _ -> Math.Round(rng.NextDouble() * 2.0 - 1.0, 4)))
      Masses = Some(Array.init atoms (fun _ -> Math.Round(rng.NextDouble() * 30.0 + 1.0, 3)))
      X = Array.init atoms (fun _ -> pos ())
      Y = Array.init atoms (fun _ -> pos ())
      Z = Array.init atoms (fun _ -> pos ())
      Coordinates = Unwrapped }

let private read (lines: seq<string>) : Frame list =
    Dump.frames lines
    |> Seq.map (function
        | Ok f -> f
        | Error(DumpError e) -> failwithf "read failed: %s" e)
    |> List.ofSeq

let private frameError (lines: string list) : string =
    match
        Dump.frames lines
        |> Seq.tryPick (function
            | Error(DumpError e) -> Some e
            | Ok _ -> None)
    with
    | Some e -> e
    | None -> failwith "no error"

let private sample =
    [ "ITEM: TIMESTEP"
      "100"
      "ITEM: NUMBER OF ATOMS"
      "3"
      "ITEM: BOX BOUNDS pp pp pp"
      "0 10"
      "0 10"
      "0 10"
      "ITEM: ATOMS zu type id xu mol yu"
      "3.0 2 7 1.0 4 2.0"
      "6.0 1 2 4.0 1 5.0"
      "9.0 1 5 7.0 1 8.0" ]

[<Tests>]
let tests =
    testList
        "md.dump"
        [ testProperty "a written dump reads back as the same frames"
          <| fun (seed: int) (PositiveInt atoms) ->
              let frames = [ frameOf seed (atoms % 50 + 1); frameOf (seed + 1) (atoms % 50 + 1) ]
              let back = read (frames |> Seq.collect Dump.write)
              back = frames

          testCase "columns are found by name and atoms put in id order"
          <| fun () ->
              let f = read sample |> List.exactlyOne
              Expect.equal f.Ids [| 2; 5; 7 |] "atoms sorted by id"
              Expect.equal f.Types [| 1; 1; 2 |] "types follow their atoms"
              Expect.equal f.Mols (Some [| 1; 1; 4 |]) "mol column follows its atoms"
              Expect.equal f.X [| 4.0; 7.0; 1.0 |] "xu column"
              Expect.equal f.Y [| 5.0; 8.0; 2.0 |] "yu column"
              Expect.equal f.Z [| 6.0; 9.0; 3.0 |] "zu column"
              Expect.equal f.Coordinates Unwrapped "xu means unwrapped"
              Expect.equal f.Timestep 100L "timestep"

          testCase "image flags unwrap x y z on reading"
          <| fun () ->
              let lines =
                  sample[0..7]
                  @ [ "ITEM: ATOMS id type x y z ix iy iz"
                      "1 1 9.5 1 1 -1 0 2"
                      "2 1 0.5 1 1 0 0 0"
                      "3 1 1 1 1 0 0 0" ]

              let f = read lines |> List.exactlyOne
              Expect.equal f.X[0] -0.5 "x + ix * Lx"
              Expect.equal f.Z[0] 21.0 "z + iz * Lz"

          testCase "scaled coordinates are converted to Angstrom"
          <| fun () ->
              let lines =
                  sample[0..4]
                  @ [ "-5 5"
                      "0 20"
                      "0 10"
                      "ITEM: ATOMS id type xs ys zs"
                      "1 1 0.5 0.25 0.1"
                      "2 1 0 0 0"
                      "3 1 1 1 1" ]

              let f = read lines |> List.exactlyOne
              Expect.floatClose Accuracy.high f.X[0] 0.0 "xs 0.5 of [-5, 5]"
              Expect.floatClose Accuracy.high f.Y[0] 5.0 "ys 0.25 of [0, 20]"
              Expect.equal f.Coordinates Wrapped "xs without images is wrapped"

          testCase "a non-numeric value is reported with its line and column"
          <| fun () ->
              let e = frameError (sample[0..9] @ [ "6.0 1 2 abc 1 5.0"; "9.0 1 5 7.0 1 8.0" ])
              Expect.stringContains e "line 11" "names the line"
              Expect.stringContains e "'abc'" "names the value"

          testCase "a dump without positions is refused naming its columns"
          <| fun () ->
              let e = frameError (sample[0..7] @ [ "ITEM: ATOMS id type vx vy vz"; "1 1 0 0 0" ])
              Expect.stringContains e "no positions" "says what is missing"
              Expect.stringContains e "id type vx vy vz" "lists the columns"

          testCase "a triclinic box is refused"
          <| fun () ->
              let e =
                  frameError (sample[0..3] @ [ "ITEM: BOX BOUNDS xy xz yz pp pp pp" ] @ sample[5..])

              Expect.stringContains e "triclinic" "says why"

          testCase "a truncated frame is an error naming the atoms read"
          <| fun () ->
              let e = frameError sample[0..10]
              Expect.stringContains e "after 2 of 3 atoms" "says how far it got" ]
