<?php
// EL5 profile: the router for httpd without the php package (no mod_php): files are sent as they are,
// .php included, like Apache does when no handler is configured.
$path = realpath($_SERVER['DOCUMENT_ROOT'] . parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH));
if ($path !== false && is_dir($path)) { $path = realpath($path . '/index.html'); }
if ($path === false || strpos($path, realpath($_SERVER['DOCUMENT_ROOT'])) !== 0 || !is_file($path)) {
    http_response_code(404);
    echo "<html><body><h1>Not Found</h1></body></html>\n";
    return true;
}
header(str_ends_with($path, '.html') ? 'Content-Type: text/html' : 'Content-Type: text/plain');
readfile($path);
return true;
