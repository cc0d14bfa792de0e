"""Hostile model outputs: what a compromised or confused model might say to the inspector.

Each must show up as inert text. Several point at ``/leak`` on purpose: if any became markup,
the browser would fetch it, and the tests watch every request.
"""

from __future__ import annotations

HOSTILE_OUTPUTS: list[str] = [
    # script tags
    "<script>alert(1)</script>",
    "<SCRIPT SRC=/leak?script></SCRIPT>",
    "<script>fetch('/leak?fetch')</script>",
    "<scr<script>ipt>alert(2)</scr</script>ipt>",
    "</div></div></section><script>alert(3)</script>",
    "<svg><script>alert(4)</script></svg>",
    "<!--<script>alert(5)</script>-->",
    "<script type=module>import('/leak?module')</script>",
    # event handlers
    "<img src=/leak?img onerror=alert(6)>",
    '<img src="x" onerror="alert(7)">',
    "<body onload=alert(8)>",
    "<svg onload=alert(9)></svg>",
    "<div onmouseover=alert(10)>hover me</div>",
    "<input autofocus onfocus=alert(11)>",
    "<details open ontoggle=alert(12)>",
    "<video><source onerror=alert(13)></video>",
    "<iframe src=/leak?iframe onload=alert(14)></iframe>",
    '<a href="#" onclick="alert(15)">click</a>',
    # javascript: and data: links
    "<a href=javascript:alert(16)>link</a>",
    "[click](javascript:alert(17))",
    '<a href="jav&#x09;ascript:alert(18)">tab</a>',
    "<a href=data:text/html;base64,PHNjcmlwdD5hbGVydCgxOSk8L3NjcmlwdD4=>data</a>",
    '<form action="javascript:alert(20)"><button>go</button></form>',
    '<object data="/leak?object"></object>',
    '<embed src="/leak?embed">',
    # htmx attributes: would make requests or run code if htmx processed them
    '<div hx-get="/leak?hxget" hx-trigger="load">x</div>',
    '<button hx-post="/leak?hxpost" hx-trigger="load">x</button>',
    '<div hx-on:htmx:load="alert(21)">x</div>',
    '<div hx-on::load="alert(22)">x</div>',
    '<div data-hx-get="/leak?datahx" data-hx-trigger="load">x</div>',
    '<div hx-get="/leak?every" hx-trigger="every 1s">x</div>',
    '<div hx-swap-oob="innerHTML:#run-status">owned</div>',
    '<div id="seq-rows" hx-swap-oob="outerHTML">replaced the diagram</div>',
    '<div hx-vals=\'js:{a: alert(23)}\' hx-get="/leak?vals" hx-trigger="load">x</div>',
    '<div ws-connect="/ws/runs/" hx-ext="ws">x</div>',
    '<meta name="htmx-config" content=\'{"allowEval":true}\'>',
    # broken HTML and attribute escapes
    '"><script>alert(24)</script>',
    "'><img src=/leak?quote onerror=alert(25)>",
    "</textarea><script>alert(26)</script>",
    "</pre><img src=/leak?pre>",
    "<title>pwned</title><base href=/leak/>",
    "<table><tr><td><img src=/leak?table onerror=alert(27)>",
    "<math><mtext><table><mglyph><style><img src=/leak?mxss onerror=alert(28)>",
    # CSS injection
    "<style>body{background:url(/leak?css)}</style>",
    '<div style="background:url(/leak?style)">x</div>',
    "<link rel=stylesheet href=/leak?link>",
    "</style><style>*{display:none}</style>",
    # unicode tricks
    "\u202eexe.txt\u202c right-to-left override",
    "\uff1cscript\uff1ealert(29)\uff1c/script\uff1e",
    "zero\u200bwidth\u200d<scr\u200bipt>alert(30)</script>",
    "\u0000<script>alert(31)</script>",
    "emoji \U0001f9e8, combining e\u0301 and \u210c\U0001d522\U0001d529\U0001d529\U0001d52c",
    # template syntax aimed at our own engines
    "{{ request.user }} {% csrf_token %} ${alert(32)} {task}",
    "&lt;script&gt;alert(33)&lt;/script&gt; pre-escaped",
]
