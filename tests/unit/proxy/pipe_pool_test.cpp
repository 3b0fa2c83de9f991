#include "proxy/pipe_pool.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

namespace chaosplus::proxy {
namespace {

bool open_fd(int fd) { return ::fcntl(fd, F_GETFD) >= 0; }

TEST(PipePool, LendsWorkingNonBlockingPipesUpToItsLimit) {
  PipePool pool(2, 64 * 1024);
  auto a = pool.borrow();
  auto b = pool.borrow();
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(pool.borrow());  // the caller copies instead
  EXPECT_EQ(pool.in_use(), 2u);
  EXPECT_EQ(::write(a->write.get(), "abc", 3), 3);
  char buffer[8];
  EXPECT_EQ(::read(a->read.get(), buffer, sizeof buffer), 3);
  EXPECT_EQ(::read(a->read.get(), buffer, sizeof buffer), -1);  // empty: EAGAIN, not a block
  EXPECT_TRUE(::fcntl(a->read.get(), F_GETFL) & O_NONBLOCK);
}

TEST(PipePool, ADrainedPipeIsLentAgain) {
  PipePool pool(1, 64 * 1024);
  auto a = pool.borrow();
  ASSERT_TRUE(a);
  int read_end = a->read.get();
  pool.give_back(std::move(*a));
  EXPECT_EQ(pool.in_use(), 0u);
  auto again = pool.borrow();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->read.get(), read_end);
}

TEST(PipePool, APipeStillHoldingBytesIsClosedNotPooled) {
  PipePool pool(1, 64 * 1024);
  auto a = pool.borrow();
  ASSERT_TRUE(a);
  ASSERT_EQ(::write(a->write.get(), "x", 1), 1);
  a->held = 1;
  int read_end = a->read.get();
  pool.give_back(std::move(*a));
  EXPECT_FALSE(open_fd(read_end));
  auto fresh = pool.borrow();  // the limit counts it no more
  ASSERT_TRUE(fresh);
  char c;
  EXPECT_EQ(::read(fresh->read.get(), &c, 1), -1);  // empty
}

TEST(PipePool, ReleasingIdlePipesClosesTheirDescriptors) {
  PipePool pool(4, 64 * 1024);
  auto a = pool.borrow();
  auto b = pool.borrow();
  ASSERT_TRUE(a && b);
  int idle_read = a->read.get();
  int idle_write = a->write.get();
  pool.give_back(std::move(*a));
  pool.release_idle();
  EXPECT_FALSE(open_fd(idle_read));
  EXPECT_FALSE(open_fd(idle_write));
  EXPECT_EQ(pool.in_use(), 1u);  // b is still lent
}

}  // namespace
}  // namespace chaosplus::proxy
