using CsCheck;
using RequestsProxy.Tokens.Jwt;
using static RequestsProxy.Tokens.Tests.TokenForge;

namespace RequestsProxy.Tokens.Tests.Jwt;

/// <summary>Random mutations of a valid token never verify and never throw.</summary>
public sealed class TokenPropertyTests
{
    private static readonly string Original = Valid();
    private static readonly Gen<char> AnyChar = Gen.OneOf(Gen.Char['\0', '\x7f'], Gen.Char, Gen.Char.AlphaNumeric, Gen.Enum<Marker>().Select(m => ".-_=+/"[(int)m]));

    private static readonly Gen<string> Mutated = Gen.OneOf(
        // Replace one character with a different one.
        Gen.Select(Gen.Int[0, Original.Length - 1], AnyChar, (i, c) => c == Original[i] ? Original.Remove(i, 1) : Original[..i] + c + Original[(i + 1)..]),
        // Delete a range.
        Gen.Select(Gen.Int[0, Original.Length - 1], Gen.Int[1, 40], (i, n) => Original.Remove(i, Math.Min(n, Original.Length - i))),
        // Insert characters.
        Gen.Select(Gen.Int[0, Original.Length], AnyChar.Array[1, 8], (i, cs) => Original.Insert(i, new string(cs))),
        // Flip one bit of one decoded byte of the header or payload, re-encode, keep the signature.
        Gen.Select(Gen.Int[0, 1], Gen.Int[0, 400], Gen.Int[0, 7], FlipBit),
        // Swap two characters that differ.
        Gen.Select(Gen.Int[0, Original.Length - 1], Gen.Int[0, Original.Length - 1], Swap));

    private static string FlipBit(int segment, int at, int bit)
    {
        var parts = Original.Split('.');
        var bytes = System.Buffers.Text.Base64Url.DecodeFromChars(parts[segment]);
        bytes[at % bytes.Length] ^= (byte)(1 << bit);
        parts[segment] = System.Buffers.Text.Base64Url.EncodeToString(bytes);
        return string.Join('.', parts);
    }

    private static string Swap(int i, int j)
    {
        var chars = Original.ToCharArray();
        (chars[i], chars[j]) = (chars[j], chars[i]);
        var swapped = new string(chars);
        return swapped == Original ? Original + "x" : swapped;
    }

    [Fact]
    public void Validate_AnyMutation_NeverVerifiesAndNeverThrows()
    {
        var forge = new TokenForge();
        var validator = forge.Validator();
        Assert.True(validator.Validate(Original).IsValid);

        Mutated.Sample(token =>
        {
            var result = validator.Validate(token);
            return token == Original || !result.IsValid;
        }, iter: 20_000);
    }

    [Fact]
    public void Validate_RandomStrings_NeverThrow()
    {
        var validator = new TokenForge().Validator();
        Gen.String[AnyChar, 0, 300].Sample(s => !validator.Validate(s).IsValid, iter: 5_000);
        Gen.Select(Gen.String[0, 200], Gen.String[0, 200], (h, p) => Sign(h, p)).Sample(t =>
        {
            _ = validator.Validate(t);
            return true;
        }, iter: 5_000);
    }

    private enum Marker
    {
        Dot,
        Dash,
        Underscore,
        Equals,
        Plus,
        Slash,
    }
}
