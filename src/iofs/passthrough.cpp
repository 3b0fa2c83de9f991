// High-level libfuse3 API: each call names a path under the mount ("/a/b"), which is the same path
// under the folder descriptor ("a/b"), so every operation is its *at() twin on that descriptor.
// Calls on an open file use the descriptor kept in fi->fh (nullpath_ok: they work after an unlink).
#define FUSE_USE_VERSION 31
#include "iofs/passthrough.h"
#include "iofs/mounts.h"

#include <dirent.h>
#include <fcntl.h>
#include <fuse.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <thread>
#include <vector>

namespace chaosplus::iofs {
namespace {

struct State {
  int root = -1;
  Rule rule;
  std::atomic<std::uint64_t> calls{0};    // picked by operation and file
  std::atomic<std::uint64_t> faulted{0};  // of those, failed or held (the share)
};

State& state() { return *static_cast<State*>(fuse_get_context()->private_data); }

// An open file: its descriptor underneath, and its path under the folder when it was opened (calls
// on an open file come without a path: nullpath_ok), for the rule's `files`.
struct Handle {
  int fd = -1;
  std::string path;
};

Handle& handle(const fuse_file_info* fi) { return *reinterpret_cast<Handle*>(fi->fh); }
int fd_of(const fuse_file_info* fi) { return handle(fi).fd; }

void keep(fuse_file_info* fi, int fd, const char* path) {
  fi->fh = reinterpret_cast<std::uint64_t>(std::make_unique<Handle>(Handle{fd, path}).release());
}

// "/" -> ".", "/a/b" -> "a/b"; null (an unlinked open file) -> "".
std::string relative(const char* path) {
  if (path == nullptr) return "";
  while (*path == '/') ++path;
  return *path == '\0' ? "." : path;
}

// What the rule does to this call: 0 = go on, else the negative errno to return. Sleeps first when
// the rule holds calls.
int strike(Op op, const char* path, const fuse_file_info* fi = nullptr) {
  const Rule& rule = state().rule;
  if (!rule.acts_on(op)) return 0;
  const std::string rel = relative(fi != nullptr ? handle(fi).path.c_str() : path);
  if (!rule.covers(rel == "." ? "" : rel)) return 0;
  state().calls.fetch_add(1);
  if (rule.share < 1.0) {
    thread_local std::mt19937_64 random{std::random_device{}()};
    if (std::uniform_real_distribution<double>(0.0, 1.0)(random) >= rule.share) return 0;
  }
  state().faulted.fetch_add(1);
  if (rule.delay.count() > 0) std::this_thread::sleep_for(rule.delay);
  return rule.error == 0 ? 0 : -rule.error;
}

int result(int rc) { return rc < 0 ? -errno : rc; }

// /proc/self/fd/ROOT/a/b: the calls without an *at() twin (xattrs) reach the file through it.
std::string proc_path(const char* path) {
  return "/proc/self/fd/" + std::to_string(state().root) + "/" + relative(path);
}

// Files the target creates are its own, not the daemon's (root).
void own(const char* path) {
  const fuse_context* c = fuse_get_context();
  (void)::fchownat(state().root, relative(path).c_str(), c->uid, c->gid, AT_SYMLINK_NOFOLLOW);
}

void* fs_init(fuse_conn_info*, fuse_config* cfg) {
  cfg->use_ino = 1;
  cfg->nullpath_ok = 1;
  cfg->hard_remove = 1;
  // Reads the kernel serves from its page cache never reach us: when the rule acts on reads, files
  // are opened direct_io so every read does. Writes reach us either way (no writeback cache), and
  // without direct_io a file can be mapped shared (SQLite's WAL index, the -shm file, needs it).
  cfg->direct_io = state().rule.acts_on(Op::read) ? 1 : 0;
  cfg->kernel_cache = 0;  // the cache of a file is dropped at each open
  cfg->entry_timeout = 0;
  cfg->attr_timeout = 0;
  cfg->negative_timeout = 0;
  return fuse_get_context()->private_data;
}

int fs_getattr(const char* path, struct stat* st, fuse_file_info* fi) {
  if (int s = strike(Op::getattr, path, fi)) return s;
  if (fi != nullptr) return result(::fstat(fd_of(fi), st));
  return result(::fstatat(state().root, relative(path).c_str(), st, AT_SYMLINK_NOFOLLOW));
}

int fs_readlink(const char* path, char* buf, size_t size) {
  const ssize_t n = ::readlinkat(state().root, relative(path).c_str(), buf, size - 1);
  if (n < 0) return -errno;
  buf[n] = '\0';
  return 0;
}

int fs_mknod(const char* path, mode_t mode, dev_t rdev) {
  if (::mknodat(state().root, relative(path).c_str(), mode, rdev) != 0) return -errno;
  own(path);
  return 0;
}

int fs_mkdir(const char* path, mode_t mode) {
  if (int s = strike(Op::mkdir, path)) return s;
  if (::mkdirat(state().root, relative(path).c_str(), mode) != 0) return -errno;
  own(path);
  return 0;
}

int fs_unlink(const char* path) {
  if (int s = strike(Op::unlink, path)) return s;
  return result(::unlinkat(state().root, relative(path).c_str(), 0));
}

int fs_rmdir(const char* path) {
  if (int s = strike(Op::unlink, path)) return s;
  return result(::unlinkat(state().root, relative(path).c_str(), AT_REMOVEDIR));
}

int fs_symlink(const char* target, const char* path) {
  if (::symlinkat(target, state().root, relative(path).c_str()) != 0) return -errno;
  own(path);
  return 0;
}

int fs_rename(const char* from, const char* to, unsigned int flags) {
  if (int s = strike(Op::rename, from)) return s;
  return result(::renameat2(state().root, relative(from).c_str(), state().root, relative(to).c_str(), flags));
}

int fs_link(const char* from, const char* to) {
  return result(::linkat(state().root, relative(from).c_str(), state().root, relative(to).c_str(), 0));
}

int fs_chmod(const char* path, mode_t mode, fuse_file_info* fi) {
  if (fi != nullptr) return result(::fchmod(fd_of(fi), mode));
  return result(::fchmodat(state().root, relative(path).c_str(), mode, 0));
}

int fs_chown(const char* path, uid_t uid, gid_t gid, fuse_file_info* fi) {
  if (fi != nullptr) return result(::fchown(fd_of(fi), uid, gid));
  return result(::fchownat(state().root, relative(path).c_str(), uid, gid, AT_SYMLINK_NOFOLLOW));
}

int fs_truncate(const char* path, off_t size, fuse_file_info* fi) {
  if (int s = strike(Op::truncate, path, fi)) return s;
  if (fi != nullptr) return result(::ftruncate(fd_of(fi), size));
  const int fd = ::openat(state().root, relative(path).c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  const int rc = result(::ftruncate(fd, size));
  ::close(fd);
  return rc;
}

int fs_utimens(const char* path, const timespec tv[2], fuse_file_info* fi) {
  if (fi != nullptr) return result(::futimens(fd_of(fi), tv));
  return result(::utimensat(state().root, relative(path).c_str(), tv, AT_SYMLINK_NOFOLLOW));
}

int fs_open(const char* path, fuse_file_info* fi) {
  if (int s = strike(Op::open, path)) return s;
  const int fd = ::openat(state().root, relative(path).c_str(), (fi->flags & ~O_NOFOLLOW) | O_CLOEXEC);
  if (fd < 0) return -errno;
  keep(fi, fd, path);
  fi->direct_io = state().rule.acts_on(Op::read) ? 1 : 0;
  return 0;
}

int fs_create(const char* path, mode_t mode, fuse_file_info* fi) {
  if (int s = strike(Op::open, path)) return s;
  const int fd = ::openat(state().root, relative(path).c_str(), fi->flags | O_CREAT | O_CLOEXEC, mode);
  if (fd < 0) return -errno;
  own(path);
  keep(fi, fd, path);
  fi->direct_io = state().rule.acts_on(Op::read) ? 1 : 0;
  return 0;
}

int fs_read(const char* path, char* buf, size_t size, off_t offset, fuse_file_info* fi) {
  if (int s = strike(Op::read, path, fi)) return s;
  const ssize_t n = ::pread(fd_of(fi), buf, size, offset);
  return n < 0 ? -errno : static_cast<int>(n);
}

int fs_write(const char* path, const char* buf, size_t size, off_t offset, fuse_file_info* fi) {
  if (int s = strike(Op::write, path, fi)) return s;
  const ssize_t n = ::pwrite(fd_of(fi), buf, size, offset);
  return n < 0 ? -errno : static_cast<int>(n);
}

int fs_statfs(const char* path, struct statvfs* st) {
  if (int s = strike(Op::statfs, path)) return s;
  return result(::fstatvfs(state().root, st));
}

int fs_flush(const char* path, fuse_file_info* fi) {
  if (int s = strike(Op::flush, path, fi)) return s;
  // close() of a duplicate reports the errors a close of the file would (NFS-style write-back).
  const int fd = ::dup(fd_of(fi));
  if (fd < 0) return -errno;
  return result(::close(fd));
}

int fs_release(const char*, fuse_file_info* fi) {
  const std::unique_ptr<Handle> h(&handle(fi));
  ::close(h->fd);
  return 0;
}

int fs_fsync(const char* path, int datasync, fuse_file_info* fi) {
  if (int s = strike(Op::fsync, path, fi)) return s;
  const int fd = fd_of(fi);
  return result(datasync != 0 ? ::fdatasync(fd) : ::fsync(fd));
}

int fs_fallocate(const char*, int mode, off_t offset, off_t length, fuse_file_info* fi) {
  return result(::fallocate(fd_of(fi), mode, offset, length));
}

int fs_setxattr(const char* path, const char* name, const char* value, size_t size, int flags) {
  return result(::lsetxattr(proc_path(path).c_str(), name, value, size, flags));
}

int fs_getxattr(const char* path, const char* name, char* value, size_t size) {
  const ssize_t n = ::lgetxattr(proc_path(path).c_str(), name, value, size);
  return n < 0 ? -errno : static_cast<int>(n);
}

int fs_listxattr(const char* path, char* list, size_t size) {
  const ssize_t n = ::llistxattr(proc_path(path).c_str(), list, size);
  return n < 0 ? -errno : static_cast<int>(n);
}

int fs_removexattr(const char* path, const char* name) { return result(::lremovexattr(proc_path(path).c_str(), name)); }

int fs_opendir(const char* path, fuse_file_info* fi) {
  const int fd = ::openat(state().root, relative(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -errno;
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    const int e = errno;
    ::close(fd);
    return -e;
  }
  fi->fh = reinterpret_cast<std::uint64_t>(dir);
  return 0;
}

int fs_readdir(const char* path, void* buf, fuse_fill_dir_t fill, off_t, fuse_file_info* fi, fuse_readdir_flags) {
  if (int s = strike(Op::readdir, path)) return s;
  DIR* dir = reinterpret_cast<DIR*>(fi->fh);
  ::rewinddir(dir);
  // Offset 0 for every entry: libfuse gathers the whole listing in one call.
  while (true) {
    errno = 0;
    const dirent* entry = ::readdir(dir);
    if (entry == nullptr) return -errno;  // 0 at the end
    struct stat st {};
    st.st_ino = entry->d_ino;
    st.st_mode = static_cast<mode_t>(DTTOIF(entry->d_type));
    if (fill(buf, entry->d_name, &st, 0, static_cast<fuse_fill_dir_flags>(0)) != 0) return 0;
  }
}

int fs_releasedir(const char*, fuse_file_info* fi) {
  ::closedir(reinterpret_cast<DIR*>(fi->fh));
  return 0;
}

int fs_access(const char* path, int mask) { return result(::faccessat(state().root, relative(path).c_str(), mask, 0)); }

fuse_operations operations() {
  fuse_operations ops{};
  ops.init = fs_init;
  ops.getattr = fs_getattr;
  ops.readlink = fs_readlink;
  ops.mknod = fs_mknod;
  ops.mkdir = fs_mkdir;
  ops.unlink = fs_unlink;
  ops.rmdir = fs_rmdir;
  ops.symlink = fs_symlink;
  ops.rename = fs_rename;
  ops.link = fs_link;
  ops.chmod = fs_chmod;
  ops.chown = fs_chown;
  ops.truncate = fs_truncate;
  ops.utimens = fs_utimens;
  ops.open = fs_open;
  ops.create = fs_create;
  ops.read = fs_read;
  ops.write = fs_write;
  ops.statfs = fs_statfs;
  ops.flush = fs_flush;
  ops.release = fs_release;
  ops.fsync = fs_fsync;
  ops.fallocate = fs_fallocate;
  ops.setxattr = fs_setxattr;
  ops.getxattr = fs_getxattr;
  ops.listxattr = fs_listxattr;
  ops.removexattr = fs_removexattr;
  ops.opendir = fs_opendir;
  ops.readdir = fs_readdir;
  ops.releasedir = fs_releasedir;
  ops.access = fs_access;
  return ops;
}

}  // namespace

int serve(const ServeOptions& options) {
  State st;
  st.root = options.root_fd;
  st.rule = options.rule;
  // allow_other: the target may run as another user than the daemon (root); default_permissions:
  // the kernel checks the files' modes for it, as it would without the mount.
  std::vector<std::string> words{"chaosplus-iofs", "-o",
                                 "fsname=chaosplus-iofs,subtype=chaosplus-iofs,allow_other,default_permissions"};
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  fuse_args args = FUSE_ARGS_INIT(static_cast<int>(argv.size()), argv.data());
  const fuse_operations ops = operations();
  fuse* fs = fuse_new(&args, &ops, sizeof(ops), &st);
  if (fs == nullptr) {
    std::cerr << "iofs: cannot set up the FUSE file system\n";
    return 1;
  }
  if (fuse_mount(fs, options.mountpoint.c_str()) != 0) {
    std::cerr << "iofs: cannot mount over " << options.mountpoint << "\n";
    fuse_destroy(fs);
    return 1;
  }
  fuse_session* session = fuse_get_session(fs);
  if (fuse_set_signal_handlers(session) != 0) {
    fuse_unmount(fs);
    fuse_destroy(fs);
    return 1;
  }
  // The watch: when the runner or the target is gone, the mount goes (its reads then end the loop).
  std::atomic<bool> done{false};
  std::thread watch([&] {
    while (!done.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      if (!done.load() && options.keep_going && !options.keep_going()) {
        // The loop ends when the kernel drops the connection: at once, or once the files the
        // target still has open through the detached mount are closed.
        // Only our own mount: after a revert detached it, the path shows what was there before.
        if (iofs_on_top(0, options.mountpoint)) ::umount2(options.mountpoint.c_str(), MNT_DETACH);
        return;
      }
    }
  });
  std::cerr << "iofs: serving " << options.mountpoint << "\n";
  const int rc = fuse_loop_mt(fs, 0);
  done.store(true);
  watch.join();
  fuse_remove_signal_handlers(session);
  // After a signal the mount is still on; after an unmount (ours, the revert's) it is not, and
  // fuse_unmount would then take off whatever is under it now.
  if (iofs_on_top(0, options.mountpoint)) fuse_unmount(fs);
  fuse_destroy(fs);
  if (!options.stats_path.empty()) {
    // Written whole, then renamed: a reader never sees half of it.
    const std::string part = options.stats_path + ".part";
    std::ofstream(part) << "{\"calls\":" << st.calls.load() << ",\"faulted\":" << st.faulted.load() << "}\n";
    ::rename(part.c_str(), options.stats_path.c_str());
  }
  std::cerr << "iofs: stopped serving " << options.mountpoint << " (" << st.calls.load() << " calls picked, "
            << st.faulted.load() << " faulted)\n";
  return rc < 0 ? 1 : 0;
}

}  // namespace chaosplus::iofs
