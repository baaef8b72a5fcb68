namespace Finales.Core

/// Units of measure used by the science core. Affine scales (degrees Celsius) are conversion
/// functions (see `Temperature`), not measures.
module Units =
    /// gram
    [<Measure>]
    type g

    /// kilogram
    [<Measure>]
    type kg

    /// mole
    [<Measure>]
    type mol

    /// centimetre
    [<Measure>]
    type cm

    /// millimetre
    [<Measure>]
    type mm

    /// millilitre (= cm^3)
    [<Measure>]
    type mL = cm^3

    /// litre
    [<Measure>]
    type L

    /// kelvin
    [<Measure>]
    type K

    /// joule
    [<Measure>]
    type J

    /// millipascal (viscosities are float<mPa s>)
    [<Measure>]
    type mPa

    /// second
    [<Measure>]
    type s

    /// siemens
    [<Measure>]
    type S

    /// metre
    [<Measure>]
    type m

    /// millisiemens
    [<Measure>]
    type mS

    /// cm^3 per litre.
    let cm3PerLiter: float<cm^3 / L> = 1000.0<cm^3 / L>

    /// g per kg.
    let gramsPerKilogram: float<g / kg> = 1000.0<g / kg>

/// Celsius is an affine scale, so it is a pair of conversion functions rather than a measure.
[<RequireQualifiedAccess>]
module Temperature =
    open Units

    /// Offset between the kelvin and the Celsius scale.
    [<Literal>]
    let CelsiusOffset = 273.15

    /// Degrees Celsius of a temperature in kelvin.
    let toCelsius (t: float<K>) : float = float t - CelsiusOffset

    /// Kelvin of a temperature in degrees Celsius.
    let ofCelsius (c: float) : float<K> = (c + CelsiusOffset) * 1.0<K>
