#include "proxy/port_picker.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace chaosplus::proxy {
namespace {

// Below Linux's ephemeral range (32768-60999), so the kernel hands none of these to other sockets
// while the test runs.
constexpr int kLow = 23451;
constexpr int kHigh = 23456;

SocketAddress loopback(int port) { return resolve({"127.0.0.1", port}).value(); }

int bound_port(const net::Fd& fd) {
  auto address = local_address(fd.get());
  if (!address) return -1;
  return ntohs(reinterpret_cast<const sockaddr_in*>(&address->storage)->sin_port);
}

TEST(PortPicker, TakesOddPortsFromTheCursorOnThenEvenOnes) {
  PortPicker picker(kLow, kHigh, kLow);
  std::vector<net::Fd> held;
  std::vector<int> ports;
  for (int i = 0; i < 6; ++i) {
    auto fd = picker.listen(loopback(0), false);
    ASSERT_TRUE(fd.ok()) << fd.error();
    ports.push_back(bound_port(*fd));
    held.push_back(std::move(fd).value());
  }
  EXPECT_EQ(ports, (std::vector<int>{23451, 23453, 23455, 23452, 23454, 23456}));
}

TEST(PortPicker, SkipsAPortThatIsTakenAndComesBackToAFreedOneOnTheNextLap) {
  PortPicker picker(kLow, kHigh, kLow);
  auto taken = listen_on(loopback(23451));
  ASSERT_TRUE(taken.ok()) << taken.error();
  auto first = picker.listen(loopback(0), false);
  ASSERT_TRUE(first.ok()) << first.error();
  EXPECT_EQ(bound_port(*first), 23453);
  taken->reset();
  std::vector<net::Fd> held;
  std::vector<int> ports;
  for (int i = 0; i < 5; ++i) {
    auto fd = picker.listen(loopback(0), false);
    ASSERT_TRUE(fd.ok()) << fd.error();
    ports.push_back(bound_port(*fd));
    held.push_back(std::move(fd).value());
  }
  EXPECT_EQ(ports, (std::vector<int>{23455, 23452, 23454, 23456, 23451}));
}

TEST(PortPicker, NeverJoinsAPortThatAnotherSocketSharesWithReusePort) {
  net::Fd other(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  int one = 1;
  ASSERT_EQ(::setsockopt(other.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one), 0);
  auto at = loopback(23451);
  ASSERT_EQ(::bind(other.get(), reinterpret_cast<const sockaddr*>(&at.storage), at.length), 0);
  ASSERT_EQ(::listen(other.get(), 8), 0);
  PortPicker picker(kLow, kHigh, kLow);
  auto fd = picker.listen(loopback(0), true);
  ASSERT_TRUE(fd.ok()) << fd.error();
  EXPECT_EQ(bound_port(*fd), 23453);
}

TEST(PortPicker, BindsAGivenPortAsItIs) {
  PortPicker picker(kLow, kHigh, kLow);
  auto fd = picker.listen(loopback(23456), false);
  ASSERT_TRUE(fd.ok()) << fd.error();
  EXPECT_EQ(bound_port(*fd), 23456);
  auto again = picker.listen(loopback(23456), false);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().find("in use"), std::string::npos) << again.error();
}

TEST(PortPicker, WhenTheWholeRangeIsTakenTheKernelPicks) {
  PortPicker picker(kLow, kLow, kLow);
  auto taken = listen_on(loopback(kLow));
  ASSERT_TRUE(taken.ok()) << taken.error();
  auto fd = picker.listen(loopback(0), false);
  ASSERT_TRUE(fd.ok()) << fd.error();
  EXPECT_NE(bound_port(*fd), kLow);
  EXPECT_GT(bound_port(*fd), 0);
}

TEST(PortPicker, TheSystemRangeGivesWorkingListeners) {
  PortPicker picker;
  std::vector<net::Fd> held;
  for (int i = 0; i < 50; ++i) {
    auto fd = picker.listen(loopback(0), false);
    ASSERT_TRUE(fd.ok()) << fd.error();
    EXPECT_GT(bound_port(*fd), 0);
    held.push_back(std::move(fd).value());
  }
}

}  // namespace
}  // namespace chaosplus::proxy
