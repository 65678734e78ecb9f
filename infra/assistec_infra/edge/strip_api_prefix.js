// CloudFront Function (viewer request, cloudfront-js-2.0) on the panel's /api/* behavior: the panel
// calls the API same-origin at /api/...; the API knows its routes without that prefix, so
// /api/orders/7 reaches API Gateway as /orders/7 (under the origin's path, the stage: /v1/orders/7).
// The query string is request.querystring, apart from request.uri, and passes untouched. Only one
// prefix is removed (/api/api/x -> /api/x, which the API answers 404).
//
// The same rule, in Python, serves the panel locally (localstack/panel_edge/rules.py); one table of
// cases (tests/fixtures/panel_edge/routes.json) checks both.
// Event shape: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/functions-event-structure.html
var PREFIX = '/api';

function handler(event) {
    var request = event.request;
    if (request.uri.indexOf(PREFIX + '/') === 0) {
        request.uri = request.uri.substring(PREFIX.length);
    }
    return request;
}
