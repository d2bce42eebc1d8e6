using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace RequestsProxy.Tokens.Keys;

/// <summary>
/// SHA-256 with a resumable state, from the same OpenSSL libcrypto the .NET runtime uses on
/// Linux. HMAC-SHA256 needs two hashes that start from fixed, key-dependent prefixes
/// (key ⊕ ipad, key ⊕ opad); keeping those two absorbed states and copying them per call saves
/// the re-keying the platform's HMAC does on every reset — about half of its cost for a token.
/// Only used after a known-answer self-test against <see cref="HMACSHA256"/>; anywhere else
/// (no libcrypto, other platforms, a failed self-test) <see cref="SigningKey"/> uses the platform's HMAC.
/// </summary>
internal static unsafe class OpenSslSha256
{
    /// <summary>Room for OpenSSL's SHA256_CTX (112 bytes on every platform) with margin; copied whole.</summary>
    public const int StateSize = 256;

    private static readonly delegate* unmanaged<byte*, int> Init;
    private static readonly delegate* unmanaged<byte*, byte*, nuint, int> Update;
    private static readonly delegate* unmanaged<byte*, byte*, int> Final;

    static OpenSslSha256()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        foreach (var name in (string[])["libcrypto.so.3", "libcrypto.so.1.1"])
        {
            if (NativeLibrary.TryLoad(name, out var library) &&
                NativeLibrary.TryGetExport(library, "SHA256_Init", out var init) &&
                NativeLibrary.TryGetExport(library, "SHA256_Update", out var update) &&
                NativeLibrary.TryGetExport(library, "SHA256_Final", out var final))
            {
                Init = (delegate* unmanaged<byte*, int>)init;
                Update = (delegate* unmanaged<byte*, byte*, nuint, int>)update;
                Final = (delegate* unmanaged<byte*, byte*, int>)final;
                IsAvailable = SelfTest();
                return;
            }
        }
    }

    public static bool IsAvailable { get; }

    /// <summary>A SHA-256 state that has absorbed <paramref name="block"/> (one 64-byte block).</summary>
    public static byte[] Absorb(ReadOnlySpan<byte> block)
    {
        var state = new byte[StateSize];
        fixed (byte* s = state)
        fixed (byte* b = block)
        {
            if (Init(s) != 1 || Update(s, b, (nuint)block.Length) != 1)
            {
                throw new CryptographicException("SHA256_Init/SHA256_Update failed");
            }
        }

        return state;
    }

    /// <summary>Continues a copy of <paramref name="state"/> with <paramref name="data"/> and writes the 32-byte digest.</summary>
    public static void Finish(ReadOnlySpan<byte> state, ReadOnlySpan<byte> data, Span<byte> digest)
    {
        var copy = stackalloc byte[StateSize];
        state.CopyTo(new Span<byte>(copy, StateSize));
        fixed (byte* d = data)
        fixed (byte* o = digest)
        {
            if (Update(copy, d, (nuint)data.Length) != 1 || Final(o, copy) != 1)
            {
                throw new CryptographicException("SHA256_Update/SHA256_Final failed");
            }
        }
    }

    /// <summary>RFC 2104 over the absorbed pads, checked against the platform's HMAC on fixed inputs.</summary>
    private static bool SelfTest()
    {
        try
        {
            Span<byte> key = stackalloc byte[64];
            Span<byte> data = stackalloc byte[200];
            for (var i = 0; i < key.Length; i++)
            {
                key[i] = (byte)(i * 7);
            }

            for (var i = 0; i < data.Length; i++)
            {
                data[i] = (byte)(i * 13);
            }

            var (inner, outer) = Pads(key);
            Span<byte> ours = stackalloc byte[32];
            Hmac(inner, outer, data, ours);
            return ours.SequenceEqual(HMACSHA256.HashData(key, data));
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    /// <summary>The absorbed key ⊕ ipad and key ⊕ opad states of an HMAC-SHA256 key.</summary>
    public static (byte[] Inner, byte[] Outer) Pads(ReadOnlySpan<byte> key)
    {
        Span<byte> block = stackalloc byte[64];
        block.Clear();
        if (key.Length > 64)
        {
            SHA256.HashData(key, block);
        }
        else
        {
            key.CopyTo(block);
        }

        Span<byte> pad = stackalloc byte[64];
        for (var i = 0; i < 64; i++)
        {
            pad[i] = (byte)(block[i] ^ 0x36);
        }

        var inner = Absorb(pad);
        for (var i = 0; i < 64; i++)
        {
            pad[i] = (byte)(block[i] ^ 0x5c);
        }

        var outer = Absorb(pad);
        CryptographicOperations.ZeroMemory(block);
        CryptographicOperations.ZeroMemory(pad);
        return (inner, outer);
    }

    public static void Hmac(ReadOnlySpan<byte> inner, ReadOnlySpan<byte> outer, ReadOnlySpan<byte> data, Span<byte> destination)
    {
        Span<byte> innerDigest = stackalloc byte[32];
        Finish(inner, data, innerDigest);
        Finish(outer, innerDigest, destination);
    }
}
