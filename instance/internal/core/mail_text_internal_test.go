package core

import "testing"

func TestHTML2Text(t *testing.T) {
	tests := []struct {
		name, html, want string
	}{
		{"empty", "", ""},
		{"paragraphs keep PocketBase's trailing spaces", "<p>Hello,</p>\n<p>World</p>", "Hello, \r\nWorld"},
		{"inline tags stay on the line", "<p>a <strong>b</strong> <em>c</em></p>", "a b c"},
		{"br always breaks", "<p>Thanks,<br/>team</p>", "Thanks,\r\nteam"},
		{"links", `<p><a class="btn" href="http://x/y">  Verify </a></p>`, "[Verify](http://x/y)"},
		{"links without label or href", `<a href="http://x"></a> <a>label</a>`, "[LINK](http://x)[label]"},
		{"list items", "<ul><li>one</li><li>two</li></ul>", "- one\r\n- two"},
		{"skipped tags", "<style>p{}</style><p>x<img src=a><script>y</script></p>", "x"},
		{"whitespace collapses", "<p>  a \n\t b  </p>", "a b"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := html2Text(tc.html)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("html2Text(%q) = %q, want %q", tc.html, got, tc.want)
			}
		})
	}
}
