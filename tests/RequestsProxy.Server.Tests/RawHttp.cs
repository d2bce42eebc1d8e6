using System.Net;
using System.Net.Sockets;
using System.Text;

namespace RequestsProxy.Server.Tests;

/// <summary>
/// HTTP/1.1 written byte for byte on a socket: attack spellings (<c>//</c>, <c>;params</c>,
/// chunk framing, <c>Upgrade</c>) that HttpClient would normalise or refuse to send.
/// </summary>
internal static class RawHttp
{
    /// <summary>Sends <paramref name="head"/> (request line and headers, without the blank line) and <paramref name="body"/>; returns the status (0: the connection closed first).</summary>
    public static async Task<RawResponse> SendAsync(Uri server, string head, byte[]? body = null)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, server.Port);
        var stream = client.GetStream();
        stream.ReadTimeout = 10_000;
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.TrimEnd('\r', '\n') + "\r\nHost: proxy\r\nConnection: close\r\n\r\n"));
        if (body is not null)
        {
            await stream.WriteAsync(body);
        }

        using var read = new MemoryStream();
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await stream.CopyToAsync(read, cancel.Token);
        }
        catch (IOException)
        {
            // A reset after the answer (the server closing while the body was still coming) keeps what was read.
        }

        var text = Encoding.UTF8.GetString(read.ToArray());
        var status = text.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) ? int.Parse(text.AsSpan(9, 3), System.Globalization.CultureInfo.InvariantCulture) : 0;
        return new RawResponse(status, text);
    }

    /// <summary>A POST with these chunks as its chunked body, the terminating chunk included.</summary>
    public static Task<RawResponse> PostChunkedAsync(Uri server, string path, string token, params int[] chunkSizes)
    {
        using var body = new MemoryStream();
        foreach (var size in chunkSizes)
        {
            body.Write(Encoding.ASCII.GetBytes(size.ToString("x", System.Globalization.CultureInfo.InvariantCulture) + "\r\n"));
            body.Write(Encoding.ASCII.GetBytes(new string('a', size)));
            body.Write("\r\n"u8);
        }

        body.Write("0\r\n\r\n"u8);
        return SendAsync(server, $"POST {path} HTTP/1.1\r\nAuthorization: Bearer {token}\r\nTransfer-Encoding: chunked", body.ToArray());
    }
}

internal sealed record RawResponse(int Status, string Text);
