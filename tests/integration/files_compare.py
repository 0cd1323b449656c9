#!/usr/bin/env python3
"""files_compare.py A B [--no-owner] [--no-xattrs] [--sparse NAME]...

Compare two directory trees by program: type, mode, uid/gid, mtime (ns),
size, content (holes skipped on both sides), symlink targets, hard-link
identity (the grouping of paths by inode), xattrs (raw values, which include
the POSIX ACLs as system.posix_acl_*). --sparse NAME: the file at that
relative path in B must still be sparse (allocated < 1/8 of its size).
Exit 0 when identical, 1 with one line per difference otherwise."""
import errno
import os
import stat
import sys


def walk(root):
    """relative bytes path -> lstat, in sorted order, root included as b'.'"""
    out = {}
    stack = [b"."]
    while stack:
        rel = stack.pop()
        p = os.path.join(root, rel)
        st = os.lstat(p)
        out[rel] = st
        if stat.S_ISDIR(st.st_mode):
            for n in sorted(os.listdir(p), reverse=True):
                stack.append(os.path.normpath(os.path.join(rel, n)))
    return out


def next_data(fd, pos):
    try:
        return os.lseek(fd, pos, os.SEEK_DATA)
    except OSError as e:
        if e.errno == errno.ENXIO:
            return None
        raise


def same_content(a, b, size):
    """Compare two files of equal size, skipping ranges that are holes in both."""
    with open(a, "rb") as fa, open(b, "rb") as fb:
        pos = 0
        while pos < size:
            da, db = next_data(fa.fileno(), pos), next_data(fb.fileno(), pos)
            if da is None and db is None:
                return True
            pos = min(x for x in (da, db) if x is not None)
            n = min(1 << 20, size - pos)
            fa.seek(pos)
            fb.seek(pos)
            if fa.read(n) != fb.read(n):
                return False
            pos += n
    return True


def xattrs(p):
    try:
        names = os.listxattr(p, follow_symlinks=False)
    except OSError:
        return {}
    return {n: os.getxattr(p, n, follow_symlinks=False) for n in names}


def main():
    args = sys.argv[1:]
    owner = "--no-owner" not in args
    check_x = "--no-xattrs" not in args
    sparse = [os.fsencode(args[i + 1]) for i, a in enumerate(args) if a == "--sparse"]
    pos = [a for i, a in enumerate(args) if not a.startswith("--") and (i == 0 or args[i - 1] != "--sparse")]
    A, B = (os.fsencode(p) for p in pos[:2])
    ta, tb = walk(A), walk(B)
    bad = []

    def say(rel, msg):
        bad.append("%s: %s" % (rel.decode("utf-8", "backslashreplace"), msg))

    for rel in sorted(set(ta) | set(tb)):
        if rel not in tb:
            say(rel, "missing in restore")
            continue
        if rel not in ta:
            say(rel, "extra in restore")
            continue
        sa, sb = ta[rel], tb[rel]
        pa, pb = os.path.join(A, rel), os.path.join(B, rel)
        if stat.S_IFMT(sa.st_mode) != stat.S_IFMT(sb.st_mode):
            say(rel, "type %o != %o" % (stat.S_IFMT(sa.st_mode), stat.S_IFMT(sb.st_mode)))
            continue
        if stat.S_IMODE(sa.st_mode) != stat.S_IMODE(sb.st_mode) and not stat.S_ISLNK(sa.st_mode):
            say(rel, "mode %o != %o" % (stat.S_IMODE(sa.st_mode), stat.S_IMODE(sb.st_mode)))
        if owner and (sa.st_uid, sa.st_gid) != (sb.st_uid, sb.st_gid):
            say(rel, "owner %d:%d != %d:%d" % (sa.st_uid, sa.st_gid, sb.st_uid, sb.st_gid))
        if sa.st_mtime_ns != sb.st_mtime_ns:
            say(rel, "mtime %d != %d" % (sa.st_mtime_ns, sb.st_mtime_ns))
        if stat.S_ISREG(sa.st_mode):
            if sa.st_size != sb.st_size:
                say(rel, "size %d != %d" % (sa.st_size, sb.st_size))
            elif not same_content(pa, pb, sa.st_size):
                say(rel, "content differs")
        if stat.S_ISLNK(sa.st_mode) and os.readlink(pa) != os.readlink(pb):
            say(rel, "link %r != %r" % (os.readlink(pa), os.readlink(pb)))
        if (stat.S_ISCHR(sa.st_mode) or stat.S_ISBLK(sa.st_mode)) and sa.st_rdev != sb.st_rdev:
            say(rel, "rdev differs")
        if check_x and not stat.S_ISLNK(sa.st_mode) and xattrs(pa) != xattrs(pb):
            say(rel, "xattrs %r != %r" % (xattrs(pa), xattrs(pb)))

    def groups(t):
        g = {}
        for rel, st in t.items():
            if not stat.S_ISDIR(st.st_mode) and st.st_nlink > 1:
                g.setdefault((st.st_dev, st.st_ino), set()).add(rel)
        return sorted(sorted(v) for v in g.values() if len(v) > 1)

    if groups(ta) != groups(tb):
        bad.append("hard-link groups differ: %r != %r" % (groups(ta), groups(tb)))
    for rel in sparse:
        st = tb.get(rel)
        if st is None or st.st_blocks * 512 * 8 > st.st_size:
            bad.append("%s: not sparse in restore (%s blocks)" % (rel.decode(), st and st.st_blocks))
    for line in bad:
        print("DIFF " + line)
    print("compared %d entries: %s" % (len(ta), "identical" if not bad else "%d differences" % len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
