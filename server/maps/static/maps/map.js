/* The map page: draws the GeoJSON of /map/data on the Leaflet map django-leaflet made. A monitoring
 * task's page in the workspace draws the task's part of it with this same script (its map's
 * data-url names the task; layers.css styles what is drawn on both pages).
 *
 * - outlets: a marker and the geofence circle (blue, dashed);
 * - check-ins: the accuracy circle and a dot, green inside the geofence, red outside, orange for a
 *   coordinate-system mix-up, grey with no site to compare;
 * - tracks: each segment a solid line; between two segments of one phone a thin dashed grey line
 *   (nothing was recorded there: the gap is shown, not hidden);
 * - flagged photos: a marker (amber warn, red fail) whose popup shows the thumbnail.
 *
 * The data are drawn whatever the tiles do: without a network the base stays blank and a note says so.
 * The container's data-state becomes "ready" (or "error") once drawing is done.
 */
(function () {
  "use strict";

  var CHECKIN_COLORS = {
    inside: "#2e7d32",
    outside: "#c62828",
    coordinate_mixup: "#ef6c00",
    no_site: "#757575"
  };
  var GEOFENCE_COLOR = "#1565c0";
  var TRACK_COLOR = "#6a1b9a";
  var GAP_COLOR = "#616161";
  var LAYER_NAMES = {outlet: "排口/点位", checkin: "签到", track: "航迹", photo: "问题照片"};

  function esc(value) {
    return String(value === null || value === undefined ? "" : value).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }

  function when(iso) {
    if (!iso) return "";
    var d = new Date(iso);
    if (isNaN(d.getTime())) return iso;
    return d.toLocaleString("zh-CN", {hour12: false});
  }

  function metres(value) {
    if (value === null || value === undefined) return "—";
    return value >= 1000 ? (value / 1000).toFixed(2) + " 公里" : Math.round(value) + " 米";
  }

  function duration(seconds) {
    var s = Math.round(seconds || 0);
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return (h ? h + " 小时 " : "") + m + " 分 " + (s % 60) + " 秒";
  }

  function rows(pairs) {
    return "<table class=\"ft-popup-table\">" + pairs.filter(function (p) {
      return p[1] !== "" && p[1] !== null && p[1] !== undefined;
    }).map(function (p) {
      return "<tr><th>" + esc(p[0]) + "</th><td>" + esc(p[1]) + "</td></tr>";
    }).join("") + "</table>";
  }

  // The workspace page behind a feature (the photo's, the task's), opened from its popup.
  function pageLink(p, label) {
    return p.page ? "<p class=\"ft-page-link\"><a href=\"" + esc(p.page) + "\">" + esc(label) + " ›</a></p>" : "";
  }

  function latlng(coordinates) {
    return [coordinates[1], coordinates[0]];
  }

  function icon(kind, modifier, title) {
    return L.divIcon({
      className: "ft-marker ft-marker-" + kind + (modifier ? " ft-" + kind + "-" + modifier : ""),
      html: "<span title=\"" + esc(title) + "\"></span>",
      iconSize: [18, 18],
      iconAnchor: [9, 9],
      popupAnchor: [0, -10]
    });
  }

  function drawOutlet(feature, groups) {
    var p = feature.properties, at = latlng(feature.geometry.coordinates);
    L.circle(at, {
      radius: p.geofence_m, color: GEOFENCE_COLOR, weight: 1.5, dashArray: "4 4",
      fillColor: GEOFENCE_COLOR, fillOpacity: 0.06, className: "ft-geofence", interactive: false
    }).addTo(groups.outlet);
    L.marker(at, {icon: icon("outlet", null, p.name), title: p.name})
      .bindPopup("<h3>" + esc(p.name) + "</h3>" + rows([
        ["企业", p.enterprise], ["编号", p.code], ["类型", p.kind], ["电子围栏", metres(p.geofence_m)]
      ]))
      .addTo(groups.outlet);
  }

  function drawCheckin(feature, groups) {
    var p = feature.properties, at = latlng(feature.geometry.coordinates);
    var color = CHECKIN_COLORS[p.verdict] || CHECKIN_COLORS.no_site;
    var popup = "<h3>签到 · " + esc(p.verdict_label) + "</h3>" + rows([
      ["时间", when(p.at)], ["人员", p.user], ["类型", p.kind], ["任务", p.task], ["点位", p.outlet],
      ["距点位", metres(p.distance_m)], ["电子围栏", p.geofence_m ? metres(p.geofence_m) : ""],
      ["定位精度", p.accuracy_m === null ? "未知" : metres(p.accuracy_m)], ["模拟定位", p.mock ? "是" : ""]
    ]) + pageLink(p, "打开任务");
    if (p.accuracy_m) {
      L.circle(at, {
        radius: p.accuracy_m, color: color, weight: 1, fillColor: color, fillOpacity: 0.15,
        className: "ft-checkin-accuracy ft-verdict-" + p.verdict
      }).bindPopup(popup).addTo(groups.checkin);
    }
    L.circleMarker(at, {
      radius: 6, color: color, weight: 2, fillColor: color, fillOpacity: 0.9,
      className: "ft-checkin-dot ft-verdict-" + p.verdict
    }).bindPopup(popup).addTo(groups.checkin);
  }

  function drawTrack(feature, groups) {
    var p = feature.properties, line = feature.geometry.coordinates.map(latlng);
    L.polyline(line, {color: TRACK_COLOR, weight: 4, opacity: 0.85, className: "ft-track"})
      .bindPopup("<h3>航迹 · 第 " + esc(p.segment) + " 段</h3>" + rows([
        ["任务", p.task], ["开始", when(p.started_at)], ["结束", when(p.ended_at)],
        ["长度", metres(p.length_m)], ["用时", duration(p.duration_s)], ["定位点", p.points]
      ]) + pageLink(p, "打开任务"))
      .addTo(groups.track);
  }

  function drawGap(feature, groups) {
    var p = feature.properties, line = feature.geometry.coordinates.map(latlng);
    L.polyline(line, {color: GAP_COLOR, weight: 2, opacity: 0.8, dashArray: "2 8", className: "ft-track-gap"})
      .bindPopup("<h3>航迹中断</h3>" + rows([
        ["任务", p.task], ["中断自", when(p.started_at)], ["恢复于", when(p.ended_at)], ["时长", duration(p.gap_s)]
      ]) + pageLink(p, "打开任务"))
      .addTo(groups.track);
  }

  function drawPhoto(feature, groups) {
    var p = feature.properties, at = latlng(feature.geometry.coordinates);
    var picture = p.thumbnail
      ? "<a href=\"" + esc(p.file || p.thumbnail) + "\" target=\"_blank\" rel=\"noopener\">" +
        "<img class=\"ft-thumb\" src=\"" + esc(p.thumbnail) + "\" alt=\"照片缩略图\"></a>"
      : "<p class=\"ft-muted\">缩略图尚未生成</p>";
    var findings = (p.findings || []).map(function (f) {
      return "<li class=\"ft-finding-" + esc(f.severity) + "\">" + esc(f.message) + "</li>";
    }).join("");
    L.marker(at, {icon: icon("photo", p.verdict, p.photo_type + " · " + p.verdict_label), title: p.photo_type})
      .bindPopup("<h3>" + esc(p.photo_type) + " · " + esc(p.verdict_label) + "</h3>" + picture +
        rows([["拍摄", when(p.at)], ["拍摄人", p.taken_by], ["任务", p.task], ["点位", p.outlet],
              ["定位精度", p.accuracy_m === null ? "未知" : metres(p.accuracy_m)]]) +
        (findings ? "<ul class=\"ft-findings\">" + findings + "</ul>" : "") +
        pageLink(p, "查看照片与证据"), {minWidth: 220})
      .addTo(groups.photo);
  }

  var DRAW = {outlet: drawOutlet, checkin: drawCheckin, track: drawTrack, track_gap: drawGap, photo: drawPhoto};

  function legend() {
    var control = L.control({position: "bottomright"});
    control.onAdd = function () {
      var div = L.DomUtil.create("div", "ft-legend");
      div.innerHTML =
        "<div><i class=\"ft-swatch\" style=\"background:" + CHECKIN_COLORS.inside + "\"></i>签到：围栏内</div>" +
        "<div><i class=\"ft-swatch\" style=\"background:" + CHECKIN_COLORS.outside + "\"></i>签到：围栏外</div>" +
        "<div><i class=\"ft-swatch\" style=\"background:" + CHECKIN_COLORS.coordinate_mixup + "\"></i>签到：坐标系错误</div>" +
        "<div><i class=\"ft-swatch ft-swatch-ring\" style=\"border-color:" + GEOFENCE_COLOR + "\"></i>排口/点位电子围栏</div>" +
        "<div><i class=\"ft-swatch ft-swatch-line\" style=\"background:" + TRACK_COLOR + "\"></i>航迹</div>" +
        "<div><i class=\"ft-swatch ft-swatch-dash\"></i>航迹中断（无记录）</div>" +
        "<div><i class=\"ft-swatch ft-swatch-photo\"></i>问题照片（警告/不通过）</div>";
      return div;
    };
    return control;
  }

  function summary(body) {
    var c = body.counts || {};
    var text = "排口/点位 " + (c.outlet || 0) + " · 签到 " + (c.checkin || 0) + " · 航迹 " + (c.track || 0) +
      " 段（中断 " + (c.track_gap || 0) + " 处） · 问题照片 " + (c.photo || 0);
    if (body.truncated && body.truncated.length) {
      text += "。数据过多，仅显示部分：" + body.truncated.map(function (k) { return LAYER_NAMES[k] || k; }).join("、");
    }
    if (body.coordinate_system === "gcj02") text += "（底图为 GCJ-02，坐标已转换）";
    return text;
  }

  window.fieldtraceMap = function (map) {
    var container = map.getContainer();
    var status = document.getElementById("map-status");
    var url = container.getAttribute("data-url");
    var tileNote = null;

    // Offline (or a tile server that refuses us): the data still show, on a blank base.
    map.eachLayer(function (layer) {
      if (!(layer instanceof L.TileLayer)) return;
      layer.on("tileerror", function () {
        if (tileNote) return;
        tileNote = L.control({position: "topright"});
        tileNote.onAdd = function () {
          var div = L.DomUtil.create("div", "ft-tile-note");
          div.textContent = "底图无法加载，数据照常显示";
          return div;
        };
        tileNote.addTo(map);
        container.setAttribute("data-tiles", "failed");
      });
    });
    legend().addTo(map);  // django-leaflet adds the scale (LEAFLET_CONFIG SCALE)

    if (!url) {
      container.setAttribute("data-state", "invalid");
      return;
    }
    var groups = {
      outlet: L.featureGroup(), track: L.featureGroup(), checkin: L.featureGroup(), photo: L.featureGroup()
    };
    fetch(url, {credentials: "same-origin", headers: {Accept: "application/geo+json, application/json"}})
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) throw new Error(body.message || ("HTTP " + response.status));
          return body;
        });
      })
      .then(function (body) {
        body.features.forEach(function (feature) {
          var draw = DRAW[feature.properties.layer];
          if (draw) draw(feature, groups);
        });
        var overlays = {};
        Object.keys(groups).forEach(function (key) {
          groups[key].addTo(map);
          overlays[LAYER_NAMES[key]] = groups[key];
        });
        L.control.layers(null, overlays, {collapsed: false, position: "topright"}).addTo(map);
        var bounds = L.latLngBounds([]);
        Object.keys(groups).forEach(function (key) {
          var b = groups[key].getBounds();
          if (b.isValid()) bounds.extend(b);
        });
        if (bounds.isValid()) map.fitBounds(bounds, {padding: [30, 30], maxZoom: 17});
        status.textContent = summary(body);
        container.setAttribute("data-state", "ready");
      })
      .catch(function (error) {
        status.textContent = "数据加载失败：" + error.message;
        status.classList.add("ft-status-error");
        container.setAttribute("data-state", "error");
        console.error("map data", error);
      });
  };
})();
