#include "runner/redaction.h"

#include <gtest/gtest.h>

#include <string>

namespace chaosplus::runner {
namespace {

TEST(Redaction, SecretKeysAreRedactedAtAnyDepthAndTheRestKept) {
  const std::string record =
      R"({"api":"127.0.0.1:4000","token":"t0k","proxy":"tokens","inner":{"Password":"pw","list":[{"api_key":"k"}]}})";
  const std::string shown = redact_record(record);
  for (const char* secret : {"t0k", "\"pw\"", "\"k\""}) EXPECT_EQ(shown.find(secret), std::string::npos) << shown;
  EXPECT_NE(shown.find("127.0.0.1:4000"), std::string::npos) << shown;
  // A value named like a secret is no secret.
  EXPECT_NE(shown.find("\"proxy\":\"tokens\""), std::string::npos) << shown;
  EXPECT_NE(shown.find("\"token\":\"<redacted>\""), std::string::npos) << shown;
}

TEST(Redaction, AnUnreadableRecordIsNotShownAtAll) {
  const std::string record = R"({"token":"t0k", cut here)";
  const std::string shown = redact_record(record);
  EXPECT_EQ(shown.find("t0k"), std::string::npos) << shown;
  EXPECT_NE(shown.find("unreadable record"), std::string::npos) << shown;
  // Nor is it when nested deeper than any record we write.
  const std::string deep = std::string(100, '[') + R"({"token":"t0k"})" + std::string(100, ']');
  EXPECT_EQ(redact_record(deep).find("t0k"), std::string::npos);
}

TEST(Redaction, MessagesLoseTheSecretsOfTheRecordTheyAreAbout) {
  const std::string record = R"({"api":"127.0.0.1:1","token":"t0k-123"})";
  EXPECT_EQ(redact_secrets("DELETE with Bearer t0k-123 refused", record), "DELETE with Bearer <redacted> refused");
  const std::string unreadable = R"({"token":"t0k-123")";
  const std::string message = redact_secrets("unreadable ledger record: " + unreadable, unreadable);
  EXPECT_EQ(message.find("t0k-123"), std::string::npos) << message;
}

}  // namespace
}  // namespace chaosplus::runner
