using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace EmotionBatch.Storage;

internal enum FileKind
{
    Regular,
    Directory,
    SymbolicLink,
    /// <summary>FIFO, socket or device: opening one can block for ever or never end.</summary>
    Special,
}

/// <summary>
/// What lstat says about a path, without following a final link. On Linux it comes from statx, whose layout is the
/// same on every architecture, because .NET exposes neither the file type (a FIFO looks like a file), the inode nor
/// the change time, and throws on modified times past year 9999. Elsewhere it falls back to FileInfo.
/// </summary>
internal readonly record struct FileStatus(FileKind Kind, long Size, long Inode, long ModifiedSeconds, uint ModifiedNanoseconds, long ChangedSeconds, uint ChangedNanoseconds)
{
    private static readonly long MinUnixSeconds = DateTimeOffset.MinValue.ToUnixTimeSeconds();
    private static readonly long MaxUnixSeconds = DateTimeOffset.MaxValue.ToUnixTimeSeconds();

    /// <summary>The modified time, clamped to what DateTimeOffset can hold (a tmpfs accepts any 64-bit time).</summary>
    public DateTimeOffset LastModified =>
        DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(ModifiedSeconds, MinUnixSeconds, MaxUnixSeconds));

    /// <summary>The status of <paramref name="path"/>, or null when it does not exist (or its name cannot be encoded).</summary>
    public static FileStatus? TryGet(string path) => OperatingSystem.IsLinux() ? Statx.TryGet(path) : FromFileInfo(path);

    private static FileStatus? FromFileInfo(string path)
    {
        var info = new FileInfo(path);
        if (info.LinkTarget is not null)
        {
            return new FileStatus(FileKind.SymbolicLink, 0, 0, 0, 0, 0, 0);
        }
        if (Directory.Exists(path))
        {
            return new FileStatus(FileKind.Directory, 0, 0, 0, 0, 0, 0);
        }
        if (!info.Exists)
        {
            return null;
        }
        var modified = new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero);
        var changed = new DateTimeOffset(info.CreationTimeUtc, TimeSpan.Zero);
        return new FileStatus(FileKind.Regular, info.Length, 0, modified.ToUnixTimeSeconds(), (uint)(modified.Ticks % TimeSpan.TicksPerSecond * 100),
            changed.ToUnixTimeSeconds(), (uint)(changed.Ticks % TimeSpan.TicksPerSecond * 100));
    }

    private static class Statx
    {
        private const int AtFdCwd = -100;
        private const int AtSymlinkNoFollow = 0x100;
        private const uint BasicStats = 0x7ff;
        private const int BufferSize = 256;

        public static FileStatus? TryGet(string path)
        {
            var buffer = new byte[BufferSize];
            if (statx(AtFdCwd, path, AtSymlinkNoFollow, BasicStats, buffer) != 0)
            {
                return null;
            }
            // struct statx: stx_mode at 28 (u16), stx_ino at 32, stx_size at 40, timestamps of 16 bytes
            // (s64 seconds, u32 nanoseconds) from 64: atime, btime, ctime (96), mtime (112).
            var span = buffer.AsSpan();
            var mode = BinaryPrimitives.ReadUInt16LittleEndian(span[28..]);
            var kind = (mode & 0xF000) switch
            {
                0x8000 => FileKind.Regular,
                0x4000 => FileKind.Directory,
                0xA000 => FileKind.SymbolicLink,
                _ => FileKind.Special,
            };
            return new FileStatus(
                kind,
                BinaryPrimitives.ReadInt64LittleEndian(span[40..]),
                BinaryPrimitives.ReadInt64LittleEndian(span[32..]),
                BinaryPrimitives.ReadInt64LittleEndian(span[112..]),
                BinaryPrimitives.ReadUInt32LittleEndian(span[120..]),
                BinaryPrimitives.ReadInt64LittleEndian(span[96..]),
                BinaryPrimitives.ReadUInt32LittleEndian(span[104..]));
        }

#pragma warning disable SYSLIB1054 // DllImport keeps the project free of unsafe code; the call is not hot.
        [DllImport("libc", SetLastError = true)]
        private static extern int statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, [Out] byte[] buffer);
#pragma warning restore SYSLIB1054
    }
}
