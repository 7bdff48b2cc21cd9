/*
 * A failing disk, for the disk-failure tests: loaded with LD_PRELOAD into a real `porthouse
 * serve`, it makes calls on files under $FAILING_DISK_DIR fail while a flag file is there:
 * - $FAILING_DISK_DIR/fail-fsync: fsync and fdatasync fail with EIO, the error a dying disk
 *   (or a thin volume out of space) gives, through the real calls SQLite (synchronous = FULL)
 *   and libuv (porthouse's own WAL sync) make;
 * - $FAILING_DISK_DIR/fail-write: pwrite, pwrite64 and write fail with ENOSPC (a full disk).
 * Everything else goes to libc.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failing(int fd, const char *what) {
  const char *dir = getenv("FAILING_DISK_DIR");
  if (!dir) return 0;
  char flag[PATH_MAX];
  snprintf(flag, sizeof flag, "%s/%s", dir, what);
  if (access(flag, F_OK) != 0) return 0;
  char link[64], path[PATH_MAX];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, path, sizeof path - 1);
  if (n < 0) return 0;
  path[n] = '\0';
  return strncmp(path, dir, strlen(dir)) == 0;
}

int fsync(int fd) {
  static int (*real)(int);
  if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  if (failing(fd, "fail-fsync")) {
    errno = EIO;
    return -1;
  }
  return real(fd);
}

int fdatasync(int fd) {
  static int (*real)(int);
  if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  if (failing(fd, "fail-fsync")) {
    errno = EIO;
    return -1;
  }
  return real(fd);
}

ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset) {
  static ssize_t (*real)(int, const void *, size_t, off_t);
  if (!real) real = (ssize_t (*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite");
  if (failing(fd, "fail-write")) {
    errno = ENOSPC;
    return -1;
  }
  return real(fd, buf, count, offset);
}

ssize_t pwrite64(int fd, const void *buf, size_t count, off64_t offset) {
  static ssize_t (*real)(int, const void *, size_t, off64_t);
  if (!real) real = (ssize_t (*)(int, const void *, size_t, off64_t))dlsym(RTLD_NEXT, "pwrite64");
  if (failing(fd, "fail-write")) {
    errno = ENOSPC;
    return -1;
  }
  return real(fd, buf, count, offset);
}

ssize_t write(int fd, const void *buf, size_t count) {
  static ssize_t (*real)(int, const void *, size_t);
  if (!real) real = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
  if (failing(fd, "fail-write")) {
    errno = ENOSPC;
    return -1;
  }
  return real(fd, buf, count);
}
