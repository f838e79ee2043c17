#Feel free to delete this once you are done reading and no longer require it

"""
This template is designed with the specific purpose of making sure that all your pages are indexed on Google or other search engines easily.
While Single Page Apps built with Anvil always face difficulty with indexing. 

Here is how this app aims to improve your SEO

1. Sitemap

Sitemaps allow search crawlers to easily discover all URLs that are present in your website and crawl them separately. 

A sitemap is automatically maintained for you. You can find it at <your app url>/_/api/sitemap.xml

However, you will have to submit the sitemap to Google Search Console (or other search engines)
https://www.semrush.com/blog/submit-sitemap-to-google/
https://www.bing.com/webmasters/help/Sitemaps-3b5cf6ed


2. Internal Linking

When crawling this website, crawlers might also be able to find links to all articles and crawl them separately. (Not very reliable though)

"""