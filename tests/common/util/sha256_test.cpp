#include "common/util/sha256.h"

#include <fstream>

#include <gtest/gtest.h>

#include "../../support/temp_dir.h"
#include "common/util/errors.h"

namespace tailsweep {
namespace {

// FIPS 180-2 test vectors.
TEST(Sha256, MatchesTheStandardVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, RecognisesItsOwnFormOnly) {
  EXPECT_TRUE(is_sha256_hex(sha256_hex("token")));
  EXPECT_FALSE(is_sha256_hex("token"));
  EXPECT_FALSE(is_sha256_hex(std::string(64, 'A')));
  EXPECT_FALSE(is_sha256_hex(std::string(63, 'a')));
}

TEST(RandomHex, GivesTwoDigitsPerByteAndDiffers) {
  const std::string first = random_hex(16);
  EXPECT_EQ(first.size(), 32u);
  EXPECT_EQ(first.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(first, random_hex(16));
}

TEST(Sha256, FileDigestEqualsTheDigestOfItsBytesAcrossBufferBoundaries) {
  const testing::TempDir dir;
  const std::string bytes(200000, 'x');
  { std::ofstream(dir.path() / "f", std::ios::binary) << bytes; }
  EXPECT_EQ(file_sha256_hex(dir.path() / "f"), sha256_hex(bytes));
  EXPECT_THROW(file_sha256_hex(dir.path() / "missing"), InputError);
}

}  // namespace
}  // namespace tailsweep
