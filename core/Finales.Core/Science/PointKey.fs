namespace Finales.Core

open System
open System.Globalization
open System.Text

/// The canonical identity of a chemical as requests name it (by name, SMILES or InChIKey). Invariant: the text
/// is `ChemicalKey.canonical` of some key, so it is the InChIKey of a chemical the core knows, else a key that
/// names no known chemical, without surrounding white space. Two names of one chemical give one key.
type ChemicalKey = private ChemicalKey of string

/// Canonical keys of chemicals as requests name them (compiled as `ChemicalKeyModule`).
[<RequireQualifiedAccess>]
module ChemicalKey =
    /// The canonical key of a chemical key (name, SMILES or InChIKey): the InChIKey of a chemical the
    /// core knows, else the key as written without surrounding white space ("" for null).
    let canonical (key: string) : string =
        match Chemical.tryFind key with
        | Some c -> (Chemical.data c).InChIKey
        | None -> if obj.ReferenceEquals(key, null) then "" else key.Trim()

    /// The key of a chemical named by name, SMILES or InChIKey (see `canonical`).
    let create (key: string) : ChemicalKey = ChemicalKey(canonical key)

    /// The key's canonical text.
    let value (ChemicalKey text) : string = text

/// How a point key rounds: fractions to `FractionDigits` decimals and the temperature (K) to
/// `TemperatureDigits` decimals, midpoints away from zero. Invariant of use: both in 0..15.
type PointKeyRule =
    { FractionDigits: int
      TemperatureDigits: int }

/// The key of one experiment point: a formulation (by canonical chemical key) at a temperature, under a
/// rounding rule. Two observations with the same key are of the same point: their chemicals name the same
/// canonical keys, with the same fractions and the same temperature after rounding (chemicals named twice
/// count with the sum of their fractions; chemicals whose rounded fraction is 0 do not count; order does not
/// matter). The text is "key=fraction;...;@temperature", keys in ordinal order, numbers with exactly the
/// rule's decimals.
type PointKey = private PointKey of string

/// Point keys and the observation join.
[<RequireQualifiedAccess>]
module PointKey =
    let private round (digits: int) (v: float) =
        Math.Round(v, digits, MidpointRounding.AwayFromZero)

    let private checkDigits (name: string) (digits: int) =
        if digits < 0 || digits > 15 then
            invalidArg name $"{name} is {digits}; expected 0..15"

    /// The formulation of a point as the key counts it: canonical chemical keys, fractions summed per key and
    /// rounded, zeros dropped, in ordinal key order.
    let roundedFormulation (rule: PointKeyRule) (fractions: (string * float) seq) : (string * float) list =
        checkDigits "FractionDigits" rule.FractionDigits

        fractions
        |> Seq.map (fun (k, v) -> ChemicalKey.canonical k, v)
        |> Seq.groupBy fst
        |> Seq.map (fun (k, vs) -> k, round rule.FractionDigits (Seq.sumBy snd vs))
        |> Seq.filter (fun (_, v) -> v <> 0.0)
        |> Seq.sortWith (fun (a, _) (b, _) -> String.CompareOrdinal(a, b))
        |> List.ofSeq

    /// The temperature of a point as the key counts it.
    let roundedTemperature (rule: PointKeyRule) (temperature: float) : float =
        checkDigits "TemperatureDigits" rule.TemperatureDigits
        round rule.TemperatureDigits temperature

    /// The key of a formulation ((chemical, fraction) pairs, chemicals by name, SMILES or InChIKey) at a
    /// temperature (K).
    let create (rule: PointKeyRule) (fractions: (string * float) seq) (temperature: float) : PointKey =
        let sb = StringBuilder()
        let fractionFormat = "F" + string rule.FractionDigits

        for k, v in roundedFormulation rule fractions do
            sb.Append(k).Append('=').Append(v.ToString(fractionFormat, CultureInfo.InvariantCulture)).Append(';')
            |> ignore

        sb
            .Append('@')
            .Append(
                (roundedTemperature rule temperature)
                    .ToString("F" + string rule.TemperatureDigits, CultureInfo.InvariantCulture)
            )
        |> ignore

        PointKey(sb.ToString())

    /// The key's text.
    let value (PointKey text) : string = text

    /// The observation join: items grouped by the point key of each, groups in the order of their first
    /// item, items in their given order within a group.
    let join (keyOf: 'a -> PointKey) (items: 'a seq) : (PointKey * 'a list) list =
        items
        |> Seq.groupBy keyOf
        |> Seq.map (fun (k, group) -> k, List.ofSeq group)
        |> List.ofSeq

    /// The observation join by point key and a second key (such as the observation's source): items grouped by
    /// both, groups in the order of their first item, items in their given order within a group.
    let joinBy<'a, 'k when 'k: equality>
        (keyOf: 'a -> PointKey * 'k)
        (items: 'a seq)
        : ((PointKey * 'k) * 'a list) list =
        items
        |> Seq.groupBy keyOf
        |> Seq.map (fun (k, group) -> k, List.ofSeq group)
        |> List.ofSeq
