package plugins

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteList prints infos as the table of `hookflow plugins list`: one row
// per action of a loaded plugin, one row with the reason for a refused one.
func WriteList(w io.Writer, infos []Info) error {
	if len(infos) == 0 {
		_, err := fmt.Fprintln(w, "no plugins")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PLUGIN\tVERSION\tCHECKSUM\tACTION\tDESCRIPTION")
	for _, info := range infos {
		version := info.Version
		if version == "" {
			version = "-"
		}
		if !info.Loaded() {
			fmt.Fprintf(tw, "%s\t%s\t%s\t-\trefused: %s\n", info.Name, version, info.Checksum, oneLine(info.Error))
			continue
		}
		if len(info.Actions) == 0 {
			fmt.Fprintf(tw, "%s\t%s\t%s\t-\tno actions\n", info.Name, version, info.Checksum)
			continue
		}
		for i, a := range info.Actions {
			if i == 0 {
				fmt.Fprintf(tw, "%s\t%s\t%s\t", info.Name, version, info.Checksum)
			} else {
				fmt.Fprint(tw, "\t\t\t")
			}
			fmt.Fprintf(tw, "%s.%s\t%s\n", info.Name, a.Name, oneLine(a.Description))
		}
	}
	return tw.Flush()
}

// oneLine keeps a table row on one line.
func oneLine(s string) string {
	out := []rune{}
	for _, r := range s {
		if r == '\n' || r == '\r' || r == '\t' {
			r = ' '
		}
		out = append(out, r)
	}
	return string(out)
}
