#pragma once
// The web dashboard's files, built into the binary (embed_dashboard.cmake)
// and served by `tailsweep serve` at / and /assets/NAME with the headers that
// keep a page holding an admin token safe (docs/dashboard.md).
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tailsweep::coordinator {

struct DashboardAsset {
  std::string_view name;  // "index.html", "app.js", "app.css"
  std::string_view content_type;
  std::string_view body;
};

// Generated at build time from dashboard/.
std::span<const DashboardAsset> dashboard_assets();

// nullptr for a name that is not one of them.
const DashboardAsset* find_dashboard_asset(std::string_view name);

// Content-Security-Policy (scripts, styles and requests only from the
// coordinator itself; no inline script or style, no frames), nosniff, no
// referrer; the page is revalidated each time, an asset (named by its hash)
// may be kept.
std::vector<std::pair<std::string, std::string>> dashboard_headers(bool is_page);

}  // namespace tailsweep::coordinator
