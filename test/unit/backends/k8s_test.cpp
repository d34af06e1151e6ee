// Units of the Kubernetes backend: DNS-1035 names.
#include "backends/k8s/k8s.h"

#include <gtest/gtest.h>

namespace pipec::backends::k8s {
namespace {

bool isDns1035(const std::string& s) {
  if (s.empty() || s.size() > 63 || !(s[0] >= 'a' && s[0] <= 'z')) return false;
  if (s.back() == '-') return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
      return false;
  return true;
}

TEST(DnsLabel, LowerCasesAndReplacesOtherCharacters) {
  EXPECT_EQ(dnsLabel("Basic_Pipeline.train"), "basic-pipeline-train");
  EXPECT_EQ(dnsLabel("a__b--c"), "a-b-c");
  EXPECT_EQ(dnsLabel("-x-"), "x");
}

TEST(DnsLabel, StartsWithALetter) {
  EXPECT_EQ(dnsLabel("0step"), "p-0step");
  EXPECT_EQ(dnsLabel(""), "p");
  EXPECT_EQ(dnsLabel("___"), "p");
}

TEST(DnsLabel, CutNamesEndInAStableHash) {
  std::string long_a(100, 'a'), long_b = std::string(99, 'a') + "b";
  std::string a = dnsLabel(long_a), b = dnsLabel(long_b);
  EXPECT_EQ(a.size(), 63u);
  EXPECT_TRUE(isDns1035(a)) << a;
  EXPECT_NE(a, b);  // same prefix, different hash
  EXPECT_EQ(a, dnsLabel(long_a));
  EXPECT_EQ(dnsLabel(long_a, 47).size(), 47u);
  // A cut that lands on a dash does not leave two in a row before the hash.
  std::string dashed =
      dnsLabel(std::string(53, 'a') + "-" + std::string(20, 'b'));
  EXPECT_TRUE(isDns1035(dashed)) << dashed;
  EXPECT_EQ(dashed.find("--"), std::string::npos) << dashed;
}

}  // namespace
}  // namespace pipec::backends::k8s
