// demo-shop-api --db PATH: orders kept in SQLite survive a restart, and storage that fails (a full
// file system, a database folder the shop may no longer write) answers 503 "storage: ..." with
// Retry-After, never 2xx and never a crash, then 201 again once the storage is back. Run as root,
// the shop writes whatever a mode allows no one; a read-only folder is shown with the shop as nobody,
// and for root with the immutable flag.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "net/http_client.h"
#include "support/support.h"

namespace chaosplus {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::Child;

bool healthy(int port) { return testing::http_request("GET", "127.0.0.1", port, "/health", {}, 1s).status == 200; }

net::Response call(int port, const std::string& method, const std::string& path, const std::string& body = {}) {
  auto url = net::Url::parse("http://127.0.0.1:" + std::to_string(port) + path);
  net::Request request;
  request.method = method;
  request.headers.push_back({"Authorization", "Bearer demo-alice"});
  if (!body.empty()) request.headers.push_back({"Content-Type", "application/json"});
  request.body = body;
  auto response = net::fetch(*url, request, 10s);
  EXPECT_TRUE(response.ok()) << method << " " << path << ": " << response.error();
  return response ? *response : net::Response{};
}

class DemoStorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    token_port = testing::free_port();
    tokens = std::make_unique<Child>(
        std::vector<std::string>{testing::bin("demo-token-service"), "--port", std::to_string(token_port)});
    ASSERT_TRUE(testing::wait_until([&] { return healthy(token_port); })) << tokens->output();
  }

  // `as` = a setpriv prefix to run it as another user (who must be able to write `files_folder`),
  // empty for root.
  std::unique_ptr<Child> start_shop(const std::string& db, std::vector<std::string> as = {},
                                    std::string files_folder = {}) {
    if (files_folder.empty()) files_folder = files.path();
    shop_port = testing::free_port();
    std::vector<std::string> argv = std::move(as);
    for (std::string arg :
         {testing::bin("demo-shop-api"), std::string("--port"), std::to_string(shop_port), std::string("--tokens"),
          "127.0.0.1:" + std::to_string(token_port), std::string("--db"), db, std::string("--files"), files_folder}) {
      argv.push_back(std::move(arg));
    }
    auto shop = std::make_unique<Child>(argv);
    EXPECT_TRUE(testing::wait_until([&] { return healthy(shop_port); })) << shop->output();
    return shop;
  }

  json order_created(const std::string& sku) {
    net::Response r = call(shop_port, "POST", "/users/me/orders", R"({"sku":")" + sku + R"(","quantity":2})");
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? json::parse(r.body) : json();
  }

  // A write while the storage fails: 503 with the storage message and Retry-After, and the shop lives on.
  void expect_storage_refusal(Child& shop, const std::string& message) {
    for (const auto& [method, path, body] : {std::tuple<std::string, std::string, std::string>{
                                                 "POST", "/users/me/orders", R"({"sku":"mug-7","quantity":1})"},
                                             {"POST", "/checkout", R"({"sku":"mug-7"})"}}) {
      net::Response r = call(shop_port, method, path, body);
      EXPECT_EQ(r.status, 503) << method << " " << path << ": " << r.body;
      EXPECT_EQ(json::parse(r.body, nullptr, false).value("error", ""), "storage: " + message) << r.body;
      EXPECT_EQ(r.header("Retry-After"), "1");
    }
    EXPECT_TRUE(shop.running()) << shop.output();
  }

  int token_port = 0;
  int shop_port = 0;
  testing::TempDir dir;
  testing::TempDir files;
  std::unique_ptr<Child> tokens;
};

TEST_F(DemoStorageTest, OrdersSurviveARestartOfTheShop) {
  const std::string db = dir.file("shop.db");
  auto shop = start_shop(db);
  const json first = order_created("mug-7");
  net::Response checkout = call(shop_port, "POST", "/checkout", R"({"sku":"book-42"})");
  ASSERT_EQ(checkout.status, 201) << checkout.body;
  const json receipt = json::parse(checkout.body);
  const json deleted = order_created("lamp-3");
  ASSERT_EQ(call(shop_port, "DELETE", "/users/me/orders/" + std::to_string(deleted["order"].get<int>())).status, 204);
  shop->signal(SIGTERM);
  ASSERT_TRUE(shop->wait(10s).has_value());

  shop = start_shop(db);
  net::Response mine = call(shop_port, "GET", "/users/me/orders");
  ASSERT_EQ(mine.status, 200) << mine.body;
  EXPECT_EQ(json::parse(mine.body), (json{{"items", {receipt, first}}, {"total", 2}}));
  EXPECT_EQ(json::parse(call(shop_port, "GET", "/orders/" + std::to_string(receipt["order"].get<int>())).body),
            receipt);
  EXPECT_EQ(call(shop_port, "GET", "/users/me/orders/" + std::to_string(deleted["order"].get<int>())).status, 404);
  EXPECT_EQ(json::parse(call(shop_port, "GET", "/users/me").body), (json{{"user", "alice"}, {"orders", 2}}));
  // Numbers are never handed out twice, also after a restart.
  EXPECT_GT(order_created("desk-1")["order"].get<int>(), deleted["order"].get<int>());
}

TEST_F(DemoStorageTest, WithoutDbOrdersAreGoneAfterARestart) {
  // The default stays the memory store: the same calls, nothing kept.
  auto start = [&] {
    shop_port = testing::free_port();
    auto shop = std::make_unique<Child>(
        std::vector<std::string>{testing::bin("demo-shop-api"), "--port", std::to_string(shop_port), "--tokens",
                                 "127.0.0.1:" + std::to_string(token_port), "--files", files.path()});
    EXPECT_TRUE(testing::wait_until([&] { return healthy(shop_port); })) << shop->output();
    return shop;
  };
  auto shop = start();
  EXPECT_EQ(order_created("mug-7")["order"], 1);
  shop->signal(SIGTERM);
  ASSERT_TRUE(shop->wait(10s).has_value());
  shop = start();
  EXPECT_EQ(json::parse(call(shop_port, "GET", "/users/me/orders").body),
            (json{{"items", json::array()}, {"total", 0}}));
  EXPECT_EQ(order_created("mug-7")["order"], 1);
}

TEST_F(DemoStorageTest, AnUnopenableDatabaseStopsTheShopAtStart) {
  // Its folder cannot be made: a file stands where the folder would be.
  testing::write_file(dir.file("a-file"), "not a folder\n");
  const std::string db = dir.file("a-file/shop.db");
  Child shop({testing::bin("demo-shop-api"), "--port", std::to_string(testing::free_port()), "--tokens",
              "127.0.0.1:" + std::to_string(token_port), "--db", db});
  ASSERT_EQ(shop.wait(10s), 1) << shop.output();
  EXPECT_NE(shop.output().find("--db " + db + ": storage: unable to open database file"), std::string::npos)
      << shop.output();
}

TEST_F(DemoStorageTest, AMissingFolderOfTheDatabaseIsMade) {
  const std::string db = dir.file("new/folder/shop.db");
  const int port = testing::free_port();
  Child shop({testing::bin("demo-shop-api"), "--port", std::to_string(port), "--tokens",
              "127.0.0.1:" + std::to_string(token_port), "--db", db});
  ASSERT_TRUE(testing::wait_until([&] { return std::filesystem::exists(db); }, 10s)) << shop.output();
}

// A tmpfs of our own, unmounted even when the test fails (after the shop that holds it open is gone).
class SmallTmpfs {
 public:
  explicit SmallTmpfs(std::string path) : path_(std::move(path)) {
    ::mkdir(path_.c_str(), 0755);
    mounted_ = ::mount("tmpfs", path_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755") == 0;
  }
  ~SmallTmpfs() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  SmallTmpfs(const SmallTmpfs&) = delete;
  SmallTmpfs& operator=(const SmallTmpfs&) = delete;
  bool mounted() const { return mounted_; }

 private:
  std::string path_;
  bool mounted_ = false;
};

TEST_F(DemoStorageTest, AFullFileSystemAnswers503ThenTheShopRecovers) {
  if (auto why = testing::needs_root("mount a tmpfs"); !why.empty()) GTEST_SKIP() << why;
  SmallTmpfs tmpfs(dir.file("disk"));
  ASSERT_TRUE(tmpfs.mounted()) << std::strerror(errno);
  auto shop = start_shop(dir.file("disk/shop.db"));
  const json before = order_created("mug-7");

  {  // Fill what is left, as a disk fill does.
    std::ofstream filler(dir.file("disk/filler"), std::ios::binary);
    const std::string block(4096, 'x');
    while (filler.write(block.data(), static_cast<std::streamsize>(block.size())) && filler.flush()) {
    }
  }
  expect_storage_refusal(*shop, "database or disk is full");
  // Reading needs no room: what was kept is still served.
  EXPECT_EQ(call(shop_port, "GET", "/orders/" + std::to_string(before["order"].get<int>())).status, 200);

  ASSERT_EQ(::unlink(dir.file("disk/filler").c_str()), 0);
  const json after = order_created("lamp-3");
  EXPECT_GT(after["order"].get<int>(), before["order"].get<int>());
  net::Response mine = call(shop_port, "GET", "/users/me/orders");
  EXPECT_EQ(json::parse(mine.body)["total"], 2) << mine.body;
  shop->signal(SIGTERM);
  ASSERT_TRUE(shop->wait(10s).has_value());
}

TEST_F(DemoStorageTest, ARevokedDatabaseFolderAnswers503ThenTheShopRecovers) {
  // Root writes anywhere: the shop runs as nobody, in a folder of its own that is then made read-only.
  if (auto why = testing::needs_root("run the shop as nobody"); !why.empty()) GTEST_SKIP() << why;
  const std::string folder = dir.file("data");
  ASSERT_EQ(::mkdir(folder.c_str(), 0755), 0);
  ASSERT_EQ(::chown(folder.c_str(), 65534, 65534), 0);
  ASSERT_EQ(::chmod(dir.path().c_str(), 0755), 0);
  auto shop = start_shop(folder + "/shop.db", {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"},
                         folder + "/files");
  const json before = order_created("mug-7");

  ASSERT_EQ(::chmod(folder.c_str(), 0555), 0);  // no journal can be made beside the database
  expect_storage_refusal(*shop, "attempt to write a readonly database");

  ASSERT_EQ(::chmod(folder.c_str(), 0755), 0);
  EXPECT_GT(order_created("lamp-3")["order"].get<int>(), before["order"].get<int>());
  shop->signal(SIGTERM);
  ASSERT_TRUE(shop->wait(10s).has_value());
}

// The immutable flag stops root too: the shop runs as root here, as the demo experiments run it.
class Immutable {
 public:
  explicit Immutable(std::string path) : path_(std::move(path)) {
    Child chattr({"chattr", "+i", path_});
    on_ = chattr.wait(30s) == 0;
    why_ = chattr.output();
  }
  ~Immutable() { off(); }
  Immutable(const Immutable&) = delete;
  Immutable& operator=(const Immutable&) = delete;
  bool on() const { return on_; }
  const std::string& why() const { return why_; }
  bool off() {
    if (!on_) return true;
    Child chattr({"chattr", "-i", path_});
    on_ = chattr.wait(30s) != 0;
    return !on_;
  }

 private:
  std::string path_;
  bool on_ = false;
  std::string why_;
};

TEST_F(DemoStorageTest, AnImmutableDatabaseFolderAnswers503ThenTheShopRecovers) {
  if (auto why = testing::needs_root("chattr +i"); !why.empty()) GTEST_SKIP() << why;
  const std::string folder = dir.file("data");
  ASSERT_EQ(::mkdir(folder.c_str(), 0755), 0);
  auto shop = start_shop(folder + "/shop.db");
  const json before = order_created("mug-7");
  {
    Immutable immutable(folder);
    if (!immutable.on()) GTEST_SKIP() << "this file system has no immutable flag: " << immutable.why();
    expect_storage_refusal(*shop, "unable to open database file");
    ASSERT_TRUE(immutable.off());
  }
  EXPECT_GT(order_created("lamp-3")["order"].get<int>(), before["order"].get<int>());
  shop->signal(SIGTERM);
  ASSERT_TRUE(shop->wait(10s).has_value());
}

}  // namespace
}  // namespace chaosplus
