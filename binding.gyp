{
  "targets": [
    {
      "target_name": "dpfwd",
      "sources": [
        "native/dataplane/names.c",
        "native/dataplane/log.c",
        "native/dataplane/eal.c",
        "native/dataplane/worker.c",
        "native/dataplane/setup.c",
        "native/dataplane/tables.c",
        "native/dataplane/ecmp.c",
        "native/dataplane/ecmp_fill.c",
        "native/dataplane/iface.c",
        "native/dataplane/punt.c",
        "native/dataplane/fib.c",
        "native/dataplane/kernel_port.c",
        "native/dataplane/afp_stats.c",
        "native/dataplane/mirror.c",
        "native/dataplane/capture.c",
        "native/netlink/route_sync.c",
        "native/binding/netlink.cc",
        "native/binding/binding.cc"
      ],
      "include_dirs": [
        "<!@(node -p \"require('node-addon-api').include\")",
        "native/dataplane",
        "native/netlink"
      ],
      "dependencies": ["<!(node -p \"require('node-addon-api').gyp\")"],
      "defines": ["ALLOW_EXPERIMENTAL_API", "NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS"],
      "cflags": ["-O3", "-Wall", "-Wextra", "<!@(pkg-config --cflags libdpdk)", "<!@(pkg-config --cflags libmnl)"],
      "cflags_c": ["-std=gnu17"],
      "cflags_cc": ["-std=gnu++17"],
      "cflags!": ["-fno-exceptions"],
      "libraries": ["<!@(pkg-config --libs libdpdk)", "<!@(pkg-config --libs libbpf)", "<!@(pkg-config --libs libpcap)", "<!@(pkg-config --libs libmnl)"]
    }
  ]
}
