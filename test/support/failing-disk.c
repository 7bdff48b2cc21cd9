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

static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off64_t);
static ssize_t (*real_write)(int, const void *, size_t);

/* Looked up once, before any thread runs, rather than racing on first use. */
__attribute__((constructor)) static void init(void) {
  real_fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  real_fdatasync = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  real_pwrite = (ssize_t (*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite");
  real_pwrite64 = (ssize_t (*)(int, const void *, size_t, off64_t))dlsym(RTLD_NEXT, "pwrite64");
  real_write = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
}

/* Whether `fd` is a file under the directory while its flag `what` exists. errno is left as it
   was: the real call that may follow must see its own. */
static int failing(int fd, const char *what) {
  if (!real_write) init(); /* called before the constructor ran (another library's) */
  const char *dir = getenv("FAILING_DISK_DIR");
  if (!dir) return 0;
  int saved = errno;
  int fail = 0;
  char flag[PATH_MAX];
  snprintf(flag, sizeof flag, "%s/%s", dir, what);
  if (access(flag, F_OK) == 0) {
    char link[64], path[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    size_t len = strlen(dir);
    if (n >= 0) {
      path[n] = '\0';
      fail = strncmp(path, dir, len) == 0 && (path[len] == '/' || path[len] == '\0');
    }
  }
  errno = saved;
  return fail;
}

int fsync(int fd) {
  if (failing(fd, "fail-fsync")) {
    errno = EIO;
    return -1;
  }
  return real_fsync(fd);
}

int fdatasync(int fd) {
  if (failing(fd, "fail-fsync")) {
    errno = EIO;
    return -1;
  }
  return real_fdatasync(fd);
}

ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset) {
  if (failing(fd, "fail-write")) {
    errno = ENOSPC;
    return -1;
  }
  return real_pwrite(fd, buf, count, offset);
}

ssize_t pwrite64(int fd, const void *buf, size_t count, off64_t offset) {
  if (failing(fd, "fail-write")) {
    errno = ENOSPC;
    return -1;
  }
  return real_pwrite64(fd, buf, count, offset);
}

ssize_t write(int fd, const void *buf, size_t count) {
  if (failing(fd, "fail-write")) {
    errno = ENOSPC;
    return -1;
  }
  return real_write(fd, buf, count);
}
