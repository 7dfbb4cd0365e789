# Run at build time (cmake -P): writes OUTPUT, a C++ file holding the
# dashboard's files (DASHBOARD_DIR: index.html, app.js, app.css) as raw string
# literals, so `tailsweep serve` carries its page and needs no network. The
# page names each asset with its content's SHA-256 (/assets/app.js?v=...), so
# a browser may keep an asset for good and still never runs a stale one.
if(NOT DASHBOARD_DIR OR NOT OUTPUT)
  message(FATAL_ERROR "embed_dashboard.cmake needs -DDASHBOARD_DIR=... -DOUTPUT=...")
endif()

set(delimiter "tailsweep_asset")
set(entries "")
file(READ ${DASHBOARD_DIR}/index.html page)
foreach(asset IN ITEMS app.js app.css)
  file(SHA256 ${DASHBOARD_DIR}/${asset} hash)
  string(SUBSTRING ${hash} 0 16 version)
  string(REPLACE "/assets/${asset}\"" "/assets/${asset}?v=${version}\"" page "${page}")
endforeach()

foreach(file_name IN ITEMS index.html app.js app.css)
  if(file_name STREQUAL "index.html")
    set(body "${page}")
    set(type "text/html; charset=utf-8")
  else()
    file(READ ${DASHBOARD_DIR}/${file_name} body)
    if(file_name MATCHES "\\.js$")
      set(type "text/javascript; charset=utf-8")
    else()
      set(type "text/css; charset=utf-8")
    endif()
  endif()
  string(FIND "${body}" ")${delimiter}\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "dashboard/${file_name} contains the raw-string delimiter ${delimiter}")
  endif()
  string(APPEND entries
    "    {\"${file_name}\", \"${type}\", R\"${delimiter}(${body})${delimiter}\"},\n")
endforeach()

file(WRITE ${OUTPUT} "// Generated from dashboard/ by coordinator/service/embed_dashboard.cmake.
// Do not edit: edit the files in dashboard/.
#include \"coordinator/service/dashboard.h\"

namespace tailsweep::coordinator {

std::span<const DashboardAsset> dashboard_assets() {
  static constexpr DashboardAsset kAssets[] = {
${entries}  };
  return kAssets;
}

}  // namespace tailsweep::coordinator
")
