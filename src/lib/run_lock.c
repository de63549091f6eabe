/* The run folder lock (see run_lock.h). */
#include "mtbert/run_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

int mtb_run_lock_acquire(mtb_run_lock *lock, const char *dir, mtb_error *err)
{
    lock->fd = -1;
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    if ((size_t)snprintf(lock->path, sizeof lock->path, "%.*s.lock", (int)n, dir) >=
        sizeof lock->path)
        return mtb_error_set(err, MTB_EINPUT, "%.200s...: path too long", dir);
    /* A holder may unlink the file between our open and our flock; the
     * lock is ours only if the file we locked is still the one at path. */
    for (int attempt = 0; attempt < 100; attempt++) {
        int fd = open(lock->path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
            return mtb_error_set(err, MTB_EINPUT, "%s: cannot create the run's lock file: %s",
                                 lock->path, strerror(errno));
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            char text[32] = "";
            ssize_t got = pread(fd, text, sizeof text - 1, 0);
            text[got > 0 ? got : 0] = '\0';
            long pid = strtol(text, NULL, 10);
            close(fd);
            if (pid > 0)
                return mtb_error_set(err, MTB_EINPUT, "%.*s is in use by another mtbert (pid %ld):"
                                     " wait for it to finish, or train into another --out",
                                     (int)n, dir, pid);
            return mtb_error_set(err, MTB_EINPUT, "%.*s is in use by another mtbert: wait for "
                                 "it to finish, or train into another --out", (int)n, dir);
        }
        struct stat held, now;
        if (fstat(fd, &held) == 0 && stat(lock->path, &now) == 0 && held.st_ino == now.st_ino &&
            held.st_dev == now.st_dev) {
            char text[32];
            int len = snprintf(text, sizeof text, "%ld\n", (long)getpid());
            if (ftruncate(fd, 0) == 0 && pwrite(fd, text, (size_t)len, 0) == len)
                lock->fd = fd;
            else
                close(fd);
            return lock->fd >= 0 ? MTB_OK
                                 : mtb_error_set(err, MTB_EFAIL, "%s: cannot write: %s",
                                                 lock->path, strerror(errno));
        }
        close(fd);
    }
    return mtb_error_set(err, MTB_EFAIL, "%s: the lock file keeps changing", lock->path);
}

void mtb_run_lock_release(mtb_run_lock *lock)
{
    if (lock->fd < 0)
        return;
    unlink(lock->path); /* while still held: nobody can hold the unlinked file */
    close(lock->fd);
    lock->fd = -1;
}
