// CloudFront Function (viewer request, cloudfront-js-2.0) on the panel's default behavior: the SPA's
// routes (/orders/123, /clientes) are served index.html, so a reload or a shared link opens the
// panel; a path whose last segment has a file extension (/assets/index-3f9a.js, /config.json,
// /favicon.ico) is left as it is and fetched from the bucket. Done here rather than with the
// distribution's error responses (403/404 -> /index.html), which would also turn the API's own
// 403s and 404s into the panel's HTML.
//
// The same rules, in Python, serve the panel locally (localstack/panel_edge/rules.py); one table of
// cases (tests/fixtures/panel_edge/routes.json) checks both.
// Event shape: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/functions-event-structure.html
// (request.uri is the path alone; the query string is request.querystring, untouched here).
function handler(event) {
    var request = event.request;
    var uri = request.uri;
    var lastSegment = uri.substring(uri.lastIndexOf('/') + 1);
    if (lastSegment.indexOf('.') === -1) {
        request.uri = '/index.html';
    }
    return request;
}
